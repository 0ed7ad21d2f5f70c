using Xunit.Abstractions;

namespace ExactlyOnce.Tests.Chaos;

/// <summary>
/// The chaos report counts the crash faults that fired although every one of them killed the silo
/// that would have reported it: from the line each crashed silo wrote before it died.
/// </summary>
[Trait("Category", "Chaos")]
[Trait("Kind", "Process")]
public sealed class When_crash_faults_fire_in_a_chaos_run(ITestOutputHelper output)
{
    [Fact]
    public async Task Should_count_every_crash_fault_in_the_report()
    {
        await using var db = await TestDatabase.CreateAsync("chaoscount");
        var run = $"count-{Guid.NewGuid():N}"[..14];
        var client = new ClientProcess(db.ConnectionString, run) { Timeout = TimeSpan.FromMinutes(6) };
        // 2 x 50 adds (and 10 % re-sent): a commit crashes its silo 15 % of the time, so a silo dies
        // within its first commits (a run with no crash at all would prove nothing: checked below).
        var result = await client.RunAsync(
            "chaos", "--silos", "2", "--orders", "2", "--items", "50", "--kills", "1", "--kill-interval", "10", "--restart-delay", "1",
            "--fault", "after-commit=0.15:crash", "--base-port", $"{20000 + Random.Shared.Next(0, 5000) * 2}", "--run", run, "--json");
        output.WriteLine(result.Stdout);
        output.WriteLine(result.Stderr);
        Assert.True(result.ExitCode == 0, result.ToString());

        var report = result.Json;
        var restarts = report.GetProperty("crashFaultRestarts").GetInt32();
        var crashes = report.GetProperty("crashFaultsFired").GetInt64();
        Assert.True(restarts >= 1, $"no silo died of a crash fault: the run shows nothing\n{result.Stdout}");
        // Every silo that died by itself died of a crash fault, and each is in the count (the monitor
        // may not have restarted one that died at the very end, so not equal).
        Assert.True(crashes >= restarts, $"{crashes} crash faults counted, {restarts} silos restarted after one");
        Assert.True(report.GetProperty("faultsFired").GetInt64() >= crashes, result.Stdout);
    }
}
