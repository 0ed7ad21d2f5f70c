using System.Diagnostics;

namespace ExactlyOnce.Tests.Client;

/// <summary>
/// Ctrl+C (a real SIGINT to the client process) cancels a long-running command: <c>load</c> stops
/// publishing, says so in one line and exits with 130 (README, "Exit codes") at once.
/// </summary>
[Trait("Category", "Integration")]
[Trait("Kind", "Process")]
public sealed class When_the_client_is_interrupted(DefaultCluster cluster) : IClassFixture<DefaultCluster>
{
    [Fact]
    public async Task Should_cancel_a_load_and_exit_with_130()
    {
        var run = $"sigint-{Guid.NewGuid():N}"[..16];
        // 100 000 messages at 20 a second: it would run for more than an hour.
        using var client = InterruptibleProgram.Start(RepoPaths.BuiltProgram("Client", "ExactlyOnce.Client.dll"),
            ["load", "--orders", "1", "--items", "100000", "--rate", "20", "--run", run],
            new Dictionary<string, string>
            {
                ["ConnectionStrings__Orleans"] = cluster.Db.ConnectionString,
                ["Cluster__ClusterId"] = cluster.ClusterId,
                ["Cluster__ServiceId"] = cluster.ClusterId,
                ["NO_COLOR"] = "1",
            });

        // Recorded once the client has joined the cluster: the command is running, not starting.
        await Eventually.WaitForAsync(
            () => cluster.Db.ScalarAsync<long>($"SELECT count(*) FROM exactlyoncerun WHERE serviceid = '{cluster.ClusterId}' AND name = '{run}'"),
            n => n == 1, TimeSpan.FromSeconds(60), "the load to record its run");
        Assert.False(client.HasExited, $"exited before the signal\n{client.Output}");

        var clock = Stopwatch.StartNew();
        client.Signal(2);

        Assert.True(await client.WaitForExitAsync(TimeSpan.FromSeconds(10)), $"still running 10 s after SIGINT\n{client.Output}");
        Assert.True(client.ExitCode == 130, $"exit {client.ExitCode} after {clock.Elapsed.TotalSeconds:F1} s\n{client.Output}");
        // Its own line: a process killed by the signal would read as 130 too, silently.
        Assert.Equal("client: interrupted", client.Stderr.Trim());
        Assert.Equal(0L, await cluster.Db.ScalarAsync<long>(
            $"SELECT count(*) FROM exactlyoncerun WHERE serviceid = '{cluster.ClusterId}' AND name = '{run}' AND completedon IS NOT NULL"));
    }
}
