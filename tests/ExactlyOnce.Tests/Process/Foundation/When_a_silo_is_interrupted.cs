using System.Diagnostics;

namespace ExactlyOnce.Tests.Foundation;

/// <summary>
/// Ctrl+C (a real SIGINT to the silo process) stops a silo as gracefully as SIGTERM does, but it
/// exits with 130, "interrupted" (README, "Exit codes"); SIGTERM's 0 is checked in
/// <see cref="When_a_silo_loses_its_database"/>.
/// </summary>
[Trait("Category", "Integration")]
[Trait("Kind", "Process")]
public sealed class When_a_silo_is_interrupted
{
    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Slack = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Should_stop_gracefully_and_exit_with_130()
    {
        await using var db = await TestDatabase.CreateAsync("sigint");
        var clusterId = $"sigint-{Guid.NewGuid():N}"[..16];
        var siloPort = SiloProcess.FreePort();
        using var silo = InterruptibleProgram.Start(RepoPaths.BuiltSiloDll(),
        [
            "--silo-port", $"{siloPort}", "--gateway-port", $"{SiloProcess.FreePort()}", "--http-port", $"{SiloProcess.FreePort()}",
            "--connection-string", db.ConnectionString, "--cluster-id", clusterId, "--service-id", clusterId,
            "--Silo:ShutdownTimeout", ShutdownTimeout.ToString("c"),
        ]);
        await silo.WaitForLineAsync("silo started:", TimeSpan.FromSeconds(60));

        var clock = Stopwatch.StartNew();
        silo.Signal(2);
        var exited = await silo.WaitForExitAsync(ShutdownTimeout + Slack);

        Assert.True(exited, $"still running {clock.Elapsed.TotalSeconds:F1} s after SIGINT\n{silo.Output}");
        Assert.True(silo.ExitCode == 130, $"exit code {silo.ExitCode} after {clock.Elapsed.TotalSeconds:F1} s\n{silo.Output}");
        // Graceful, not killed by the signal (which would read as 130 too): the host stopped,
        // nothing was cut short, and the silo wrote its own membership row as Dead (6).
        Assert.Contains("Application is shutting down", silo.Output);
        Assert.DoesNotContain("did not finish", silo.Output);
        Assert.DoesNotContain("during shutdown; exiting now", silo.Output);
        var status = await db.ScalarAsync<int>($"SELECT status FROM orleansmembership WHERE port = {siloPort}");
        Assert.Equal(6, status);
    }
}
