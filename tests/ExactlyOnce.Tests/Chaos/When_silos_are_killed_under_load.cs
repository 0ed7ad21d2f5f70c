using Npgsql;
using Xunit.Abstractions;

namespace ExactlyOnce.Tests.Chaos;

/// <summary>
/// The chaos runner as a user runs it: 3 silo processes, 2,000 adds with 10 % duplicates, kill -9
/// of random silos (each started again), crash faults after commit, one immediate PostgreSQL restart.
/// </summary>
[Trait("Category", "Chaos")]
public sealed class When_silos_are_killed_under_load(ITestOutputHelper output)
{
    /// <summary>The stated bound: after the last fault the cluster drains within this time.</summary>
    private const int DrainBoundSeconds = 180;

    private static string[] ChaosArgs(string run, string mode, int orders, int items, int kills) =>
    [
        "chaos", "--silos", "3", "--orders", $"{orders}", "--items", $"{items}", "--duplicates", "0.1", "--mode", mode,
        "--kills", $"{kills}", "--kill-interval", "6", "--restart-delay", "1",
        "--fault", "after-commit=0.001:crash", "--restart-db",
        "--base-port", $"{20000 + Random.Shared.Next(0, 5000) * 2}", "--run", run, "--drain-bound", $"{DrainBoundSeconds}", "--timeout", "300", "--json",
    ];

    [Fact]
    public async Task Should_lose_nothing_and_duplicate_nothing_exactly_once()
    {
        await using var db = await TestDatabase.CreateAsync("chaos");
        var run = $"chaos-{Guid.NewGuid():N}"[..14];
        // A fifth of the commands are removes: the result depends on the order they are applied in.
        var result = await new ClientProcess(db.ConnectionString, run).RunAsync([.. ChaosArgs(run, "exactly-once", orders: 20, items: 100, kills: 3), "--removes", "0.2"]);
        output.WriteLine(result.Stdout);
        output.WriteLine(result.Stderr);
        NpgsqlConnection.ClearAllPools(); // the database was restarted under the pool

        Assert.True(result.ExitCode == 0, result.ToString());
        var report = result.Json;
        Assert.Equal(2000, report.GetProperty("unique").GetInt32());
        Assert.True(report.GetProperty("sent").GetInt32() > 2000, "10 % duplicates were sent");
        Assert.Equal(3, report.GetProperty("kills").GetInt32());
        Assert.Equal(1, report.GetProperty("databaseRestarts").GetInt32());
        foreach (var count in new[] { "lost", "duplicated", "ghost", "inconsistent", "reordered" })
        {
            Assert.Equal(0, report.GetProperty(count).GetInt32());
        }

        Assert.True(report.GetProperty("quiescent").GetBoolean());
        Assert.True(report.GetProperty("secondsToQuiescenceAfterLastFault").GetDouble() <= DrainBoundSeconds);
        Assert.True(report.GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task Should_be_caught_by_the_check_at_least_once()
    {
        await using var db = await TestDatabase.CreateAsync("chaosalo");
        var run = $"chaos-{Guid.NewGuid():N}"[..14];
        var args = ChaosArgs(run, "at-least-once", orders: 10, items: 50, kills: 2).Concat(["--fault", "after-commit=0.05:throw"]).ToArray();
        var result = await new ClientProcess(db.ConnectionString, run).RunAsync(args);
        output.WriteLine(result.Stdout);
        NpgsqlConnection.ClearAllPools();

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.True(result.Json.GetProperty("duplicated").GetInt32() > 0);
        Assert.False(result.Json.GetProperty("ok").GetBoolean());
    }
}
