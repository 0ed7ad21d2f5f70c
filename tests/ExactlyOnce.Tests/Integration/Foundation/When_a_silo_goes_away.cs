using ExactlyOnce.Grains.Diagnostics;

namespace ExactlyOnce.Tests.Foundation;

/// <summary>Persistence and clustering through the in-process TestCluster (graceful stops).</summary>
[Trait("Category", "Integration")]
[Trait("Kind", "Integration")]
public sealed class When_a_silo_goes_away
{
    [Fact]
    public async Task Should_keep_grain_state_across_a_restart_of_the_silo()
    {
        await using var db = await TestDatabase.CreateAsync("persist");
        var serviceId = $"svc-{Guid.NewGuid():N}"[..12];

        var first = await OrleansTestCluster.DeployAsync(db.ConnectionString, silos: 1, serviceId);
        var grain = first.Client.GetGrain<IProbeGrain>("restart");
        for (var i = 0; i < 3; i++)
        {
            await grain.Increment();
        }

        await first.StopAllSilosAsync();
        await first.DisposeAsync();

        var second = await OrleansTestCluster.DeployAsync(db.ConnectionString, silos: 1, serviceId);
        try
        {
            var reply = await second.Client.GetGrain<IProbeGrain>("restart").Read();
            Assert.Equal(3, reply.Count);
        }
        finally
        {
            await second.StopAllSilosAsync();
            await second.DisposeAsync();
        }
    }

    [Fact]
    public async Task Should_serve_the_grain_from_the_other_silo_with_its_persisted_state_after_one_silo_stops()
    {
        await using var db = await TestDatabase.CreateAsync("cluster");
        var cluster = await OrleansTestCluster.DeployAsync(db.ConnectionString, silos: 2);
        try
        {
            var grain = cluster.Client.GetGrain<IProbeGrain>("failover");
            await grain.Increment();
            var before = await grain.Increment();
            var host = cluster.GetActiveSilos().Single(s => s.SiloAddress.ToString() == before.SiloAddress);

            await cluster.StopSiloAsync(host);

            var after = await Eventually.WaitForAsync(() => grain.Read(), r => r.SiloAddress != before.SiloAddress,
                TimeSpan.FromSeconds(30), "the grain to answer from the surviving silo");
            Assert.Equal(2, after.Count);
            Assert.Equal(
                1,
                await db.ScalarAsync<int>($"SELECT count(*) FROM orleansmembership WHERE deploymentid = '{cluster.Options.ClusterId}' AND status = 3"));
        }
        finally
        {
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }
    }
}
