using System.Diagnostics;
using ExactlyOnce.Grains.Diagnostics;
using ExactlyOnce.Hosting;

namespace ExactlyOnce.Tests.Foundation;

/// <summary>Real crashes: silo OS processes killed with SIGKILL.</summary>
[Trait("Category", "Crash")]
[Trait("Kind", "Process")]
public sealed class When_a_silo_process_is_killed
{
    [Fact]
    public async Task Should_answer_from_the_survivor_with_its_state_within_15_s_and_mark_the_killed_silo_dead()
    {
        await using var db = await TestDatabase.CreateAsync("crash");
        var clusterId = $"crash-{Guid.NewGuid():N}"[..16];
        await using var a = SiloProcess.Start(db.ConnectionString, clusterId);
        await using var b = SiloProcess.Start(db.ConnectionString, clusterId);
        await Task.WhenAll(a.WaitStartedAsync(TimeSpan.FromSeconds(60)), b.WaitStartedAsync(TimeSpan.FromSeconds(60)));
        await using var connection = await ClusterConnection.ConnectAsync(
            new ClusterSettings { ClusterId = clusterId, ServiceId = clusterId, ConnectionString = db.ConnectionString },
            new StreamSettings(), CancellationToken.None);

        var grain = connection.Client.GetGrain<IProbeGrain>("crash");
        await grain.Increment();
        var before = await grain.Increment();
        var victim = before.ProcessId == a.ProcessId ? a : b;
        var survivor = victim == a ? b : a;

        var clock = Stopwatch.StartNew();
        victim.KillHard();
        var after = await Eventually.WaitForAsync(
            () => grain.Read().WaitAsync(TimeSpan.FromSeconds(3)), r => r.ProcessId == survivor.ProcessId,
            TimeSpan.FromSeconds(15), "the grain to answer from the survivor");
        var answeredAfter = clock.Elapsed;

        Assert.Equal(2, after.Count);
        Assert.True(answeredAfter < TimeSpan.FromSeconds(15), $"answered after {answeredAfter}");

        var status = await Eventually.WaitForAsync(
            () => db.ScalarAsync<int>($"SELECT status FROM orleansmembership WHERE deploymentid = '{clusterId}' AND port = {victim.SiloPort}"),
            s => s == 6, TimeSpan.FromSeconds(15), "the killed silo to be marked Dead (6)");
        Assert.Equal(6, status);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"declared dead after {clock.Elapsed}");
        Assert.False(survivor.HasExited);
    }
}
