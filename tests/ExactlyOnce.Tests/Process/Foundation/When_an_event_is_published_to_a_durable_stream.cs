using ExactlyOnce.Grains;
using ExactlyOnce.Grains.Diagnostics;
using ExactlyOnce.Hosting;
using Orleans.Streams;

namespace ExactlyOnce.Tests.Foundation;

[Trait("Category", "Integration")]
[Trait("Kind", "Process")]
public sealed class When_an_event_is_published_to_a_durable_stream
{
    [Fact]
    public async Task Should_reach_the_implicitly_subscribed_grain_and_be_redelivered_after_consumer_failures()
    {
        await using var db = await TestDatabase.CreateAsync("streams");
        var cluster = await OrleansTestCluster.DeployAsync(db.ConnectionString, silos: 1);
        try
        {
            var key = Guid.NewGuid();
            var stream = cluster.Client.GetStreamProvider(OrleansNames.StreamProvider).GetStream<ProbeEvent>(StreamNamespaces.Probe, key);
            var plain = new ProbeEvent(Guid.NewGuid());
            var failing = new ProbeEvent(Guid.NewGuid(), FailAttempts: 2);

            await stream.OnNextAsync(plain);
            await stream.OnNextAsync(failing);

            var consumer = cluster.Client.GetGrain<IProbeStreamGrain>(key);
            var status = await Eventually.WaitForAsync(consumer.GetStatus, s => s.Accepted.Contains(failing.EventId),
                TimeSpan.FromSeconds(60), "the failing event to be accepted after redelivery");

            Assert.Contains(plain.EventId, status.Accepted);
            Assert.Equal(1, status.Attempts[plain.EventId]);
            Assert.Equal(3, status.Attempts[failing.EventId]);
            await Eventually.WaitForAsync(() => db.ScalarAsync<int>("SELECT count(*) FROM orleansstreammessage"), n => n == 0,
                TimeSpan.FromSeconds(30), "the live message table to drain (confirmations)");
        }
        finally
        {
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }
    }

    [Fact]
    [Trait("Category", "Crash")]
    public async Task Should_be_delivered_by_the_survivor_after_the_consuming_silo_is_killed()
    {
        await using var db = await TestDatabase.CreateAsync("streamcrash");
        var clusterId = $"scrash-{Guid.NewGuid():N}"[..16];
        string[] streamArgs =
        [
            "--Streams:VisibilityTimeout", "00:00:20", "--Streams:MaxEventDeliveryTime", "00:00:10", "--Streams:QueueCount", "2",
        ];
        await using var a = SiloProcess.Start(db.ConnectionString, clusterId, streamArgs);
        await using var b = SiloProcess.Start(db.ConnectionString, clusterId, streamArgs);
        await Task.WhenAll(a.WaitStartedAsync(TimeSpan.FromSeconds(60)), b.WaitStartedAsync(TimeSpan.FromSeconds(60)));
        await using var connection = await ClusterConnection.ConnectAsync(
            new ClusterSettings { ClusterId = clusterId, ServiceId = clusterId, ConnectionString = db.ConnectionString },
            new StreamSettings { QueueCount = 2 }, CancellationToken.None);

        var key = Guid.NewGuid();
        var held = new ProbeEvent(Guid.NewGuid(), HoldSeconds: 5);
        await connection.Client.GetStreamProvider(OrleansNames.StreamProvider)
            .GetStream<ProbeEvent>(StreamNamespaces.Probe, key).OnNextAsync(held);

        // The consumer records the process holding the event before it accepts it; kill that process.
        var consumer = connection.Client.GetGrain<IProbeStreamGrain>(key);
        var holding = await Eventually.WaitForAsync(consumer.GetStatus, s => s.HeldByProcess.ContainsKey(held.EventId),
            TimeSpan.FromSeconds(30), "the consumer to hold the event");
        Assert.Empty(holding.Accepted);
        var victim = holding.HeldByProcess[held.EventId] == a.ProcessId ? a : b;
        var survivor = victim == a ? b : a;
        victim.KillHard();

        var status = await Eventually.WaitForAsync(() => consumer.GetStatus().WaitAsync(TimeSpan.FromSeconds(3)),
            s => s.Accepted.Contains(held.EventId), TimeSpan.FromSeconds(90), "the survivor to deliver the event");

        Assert.Single(status.Accepted, held.EventId);
        Assert.True(status.Attempts[held.EventId] >= 2, "the event was delivered again after the crash");
        Assert.False(survivor.HasExited);
        await Eventually.WaitForAsync(() => db.ScalarAsync<int>("SELECT count(*) FROM orleansstreammessage"), n => n == 0,
            TimeSpan.FromSeconds(60), "the live message table to drain");
    }
}
