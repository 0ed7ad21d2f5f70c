using System.Diagnostics;
using Xunit.Abstractions;

namespace ExactlyOnce.Tests.Foundation;

/// <summary>
/// SIGTERM stops a silo process within its shutdown timeout (Silo:ShutdownTimeout) whether its
/// PostgreSQL is reachable or not; the database is made unreachable by cutting a <see cref="TcpProxy"/>.
/// </summary>
[Trait("Category", "Integration")]
[Trait("Kind", "Process")]
public sealed class When_a_silo_loses_its_database(ITestOutputHelper output)
{
    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Slack = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Should_exit_within_its_shutdown_timeout_on_sigterm_with_a_non_zero_code()
    {
        await using var db = await TestDatabase.CreateAsync("sigterm_cut");
        var (proxy, connectionString) = TcpProxy.ForPostgres(db.ConnectionString);
        await using var _ = proxy;
        await using var silo = StartSilo(connectionString);
        await silo.WaitStartedAsync(TimeSpan.FromSeconds(60));

        proxy.Cut();
        // Let the silo notice: its next membership / stream / storage calls fail against the cut proxy.
        await Task.Delay(TimeSpan.FromSeconds(3));
        var (exited, took) = await TerminateTimedAsync(silo, ShutdownTimeout + Slack, "database cut");

        Assert.True(exited, $"still running {took.TotalSeconds:F1} s after SIGTERM (shutdown timeout {ShutdownTimeout.TotalSeconds} s)\n{silo.Output}");
        Assert.True(took < ShutdownTimeout + Slack, $"exited after {took.TotalSeconds:F1} s");
        Assert.NotEqual(0, silo.ExitCode);
        Assert.Contains("silo: graceful shutdown did not finish within 10s; exiting", silo.Output);
    }

    [Fact]
    public async Task Should_exit_at_once_on_a_second_sigterm_during_the_shutdown()
    {
        await using var db = await TestDatabase.CreateAsync("sigterm_twice");
        var (proxy, connectionString) = TcpProxy.ForPostgres(db.ConnectionString);
        await using var _ = proxy;
        await using var silo = StartSilo(connectionString);
        await silo.WaitStartedAsync(TimeSpan.FromSeconds(60));

        proxy.Cut();
        silo.Terminate();
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.False(silo.HasExited, $"exited on the first SIGTERM already\n{silo.Output}");
        var (exited, took) = await TerminateTimedAsync(silo, TimeSpan.FromSeconds(5), "second SIGTERM");

        Assert.True(exited, $"still running {took.TotalSeconds:F1} s after the second SIGTERM\n{silo.Output}");
        Assert.NotEqual(0, silo.ExitCode);
        Assert.Contains("silo: second SIGTERM during shutdown; exiting now", silo.Output);
    }

    [Fact]
    public async Task Should_stop_gracefully_with_exit_code_0_when_the_database_is_reachable()
    {
        await using var db = await TestDatabase.CreateAsync("sigterm_ok");
        var (proxy, connectionString) = TcpProxy.ForPostgres(db.ConnectionString);
        await using var _ = proxy;
        await using var silo = StartSilo(connectionString);
        await silo.WaitStartedAsync(TimeSpan.FromSeconds(60));

        var (exited, took) = await TerminateTimedAsync(silo, ShutdownTimeout + Slack, "database reachable");

        Assert.True(exited, $"still running {took.TotalSeconds:F1} s after SIGTERM\n{silo.Output}");
        Assert.True(silo.ExitCode == 0, $"exit code {silo.ExitCode} after {took.TotalSeconds:F1} s\n{silo.Output}");
        Assert.DoesNotContain("did not finish", silo.Output);
        var status = await db.ScalarAsync<int>($"SELECT status FROM orleansmembership WHERE port = {silo.SiloPort}");
        Assert.Equal(6, status);
    }

    /// <summary>Sends SIGTERM and waits up to <paramref name="timeout"/>; logs and returns whether it exited and how long it took.</summary>
    private async Task<(bool Exited, TimeSpan Took)> TerminateTimedAsync(SiloProcess silo, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        var exited = await silo.TerminateAsync(timeout);
        var took = clock.Elapsed;
        output.WriteLine($"{what}: exited {exited} after {took.TotalSeconds:F1} s, code {(exited ? silo.ExitCode : null)}");
        return (exited, took);
    }

    private static SiloProcess StartSilo(string connectionString) =>
        SiloProcess.Start(connectionString, $"sigterm-{Guid.NewGuid():N}"[..16],
            "--Silo:ShutdownTimeout", ShutdownTimeout.ToString("c"));
}
