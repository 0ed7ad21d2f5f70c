using Npgsql;
using Xunit.Abstractions;

namespace ExactlyOnce.Tests.Chaos;

/// <summary>
/// The chaos runner as a user runs it, on the default silo settings: 3 silo processes, kill -9 of
/// random silos (each started again), crash faults after commit, one immediate PostgreSQL restart.
/// </summary>
[Trait("Category", "Chaos")]
[Collection(TestCollections.RestartsPostgres)]
[Trait("Kind", "Process")]
public sealed class When_silos_are_killed_under_load(ITestOutputHelper output)
{
    /// <summary>The stated bound: after the last fault the cluster drains within this time.</summary>
    private const int DrainBoundSeconds = 180;

    private static string[] ChaosArgs(string run, string mode, int orders, int items, int kills, int interval) =>
    [
        "chaos", "--silos", "3", "--orders", $"{orders}", "--items", $"{items}", "--duplicates", "0.1", "--mode", mode,
        "--kills", $"{kills}", "--kill-interval", $"{interval}", "--restart-delay", "1",
        "--fault", "after-commit=0.001:crash", "--restart-db",
        "--base-port", $"{20000 + Random.Shared.Next(0, 5000) * 2}", "--run", run, "--drain-bound", $"{DrainBoundSeconds}", "--timeout", "300", "--json",
    ];

    /// <summary>
    /// A real backlog: the silos start with their pulling agents stopped, the whole load (5,000
    /// unique commands, a fifth of them removes, 10 % re-sent) is published, then the agents start on
    /// every silo at once. The first kill comes 8 s later, while the backlog is there; right after
    /// it a zombie: one silo frozen with SIGSTOP for 15 s (failure detection declares a silo dead in
    /// about 6 s) while it holds rows in flight and activations; the others take over; then SIGCONT:
    /// it wakes up with its cache and grains, finds itself declared dead and stops, and whatever it
    /// tries to write or publish on the way must not duplicate or make a ghost (the crash faults are
    /// off meanwhile: a healthy silo crashing during the freeze would leave too few voters to
    /// declare the zombie dead). Then the other 7 kills, 8 s apart, while the backlog drains.
    /// </summary>
    [Fact]
    public async Task Should_drain_a_backlog_losing_and_duplicating_nothing_while_a_silo_is_frozen_and_silos_are_killed()
    {
        await using var db = await TestDatabase.CreateAsync("chaos");
        var run = $"chaos-{Guid.NewGuid():N}"[..14];
        // A fifth of the commands are removes: the result depends on the order they are applied in.
        var client = new ClientProcess(db.ConnectionString, run) { Timeout = TimeSpan.FromMinutes(9) };
        var result = await client.RunAsync([.. ChaosArgs(run, "exactly-once", orders: 25, items: 200, kills: 8, interval: 8), "--removes", "0.2", "--backlog", "--freeze", "15"]);
        output.WriteLine(result.Stdout);
        output.WriteLine(result.Stderr);
        NpgsqlConnection.ClearAllPools(); // the database was restarted under the pool

        if (result.ExitCode != 0)
        {
            Assert.Fail($"{result}\n{await ParkedRowsAsync(db)}");
        }

        var report = result.Json;
        Assert.Equal(5000, report.GetProperty("unique").GetInt32());
        Assert.True(report.GetProperty("sent").GetInt32() > 5000, "10 % duplicates were sent");
        // The whole load waited in the stream table before anything was consumed, and most of it
        // was still there when the kills began.
        Assert.True(report.GetProperty("streamRowsWhenAgentsStarted").GetInt64() >= report.GetProperty("sent").GetInt32());
        Assert.True(report.GetProperty("streamRowsAtFirstKill").GetInt64() >= 2500, "the backlog was still there at the first kill");
        Assert.Equal(15, report.GetProperty("frozenSeconds").GetDouble());
        Assert.Equal(8, report.GetProperty("kills").GetInt32());
        Assert.Equal(1, report.GetProperty("databaseRestarts").GetInt32());
        foreach (var count in new[] { "lost", "duplicated", "ghost", "inconsistent", "reordered" })
        {
            Assert.Equal(0, report.GetProperty(count).GetInt32());
        }

        Assert.Equal(0, report.GetProperty("streamDeadLetters").GetInt64());
        Assert.Equal(0, report.GetProperty("sequencedDeadLetters").GetInt64());
        Assert.True(report.GetProperty("quiescent").GetBoolean());
        Assert.True(report.GetProperty("secondsToQuiescenceAfterLastFault").GetDouble() <= DrainBoundSeconds);
        Assert.True(report.GetProperty("ok").GetBoolean());
    }

    /// <summary>
    /// Evidence for a failed run, kept in its message because the database is dropped with the
    /// test: what every receiver still has in the parking table, per producer (a producer that
    /// waits for a message its receiver has parked is stuck; one whose message is not there lost it upstream).
    /// </summary>
    private static async Task<string> ParkedRowsAsync(TestDatabase db)
    {
        var rows = await db.QueryAsync("""
            SELECT Receiver, ProducerId, count(*), min(Sequence), max(Sequence),
                   array_to_string((array_agg(Sequence ORDER BY Sequence))[1:40], ',')
              FROM ExactlyOnceParkedMessage GROUP BY Receiver, ProducerId ORDER BY Receiver, ProducerId
            """);
        return rows.Count == 0
            ? "parking table: empty"
            : "parking table (receiver, producer, rows, lowest, highest, first 40):\n" + string.Join('\n', rows.Select(r => string.Join(' ', r)));
    }

    [Fact]
    public async Task Should_be_caught_by_the_check_at_least_once()
    {
        await using var db = await TestDatabase.CreateAsync("chaosalo");
        var run = $"chaos-{Guid.NewGuid():N}"[..14];
        var args = ChaosArgs(run, "at-least-once", orders: 10, items: 50, kills: 2, interval: 6).Concat(["--fault", "after-commit=0.05:throw"]).ToArray();
        var result = await new ClientProcess(db.ConnectionString, run).RunAsync(args);
        output.WriteLine(result.Stdout);
        NpgsqlConnection.ClearAllPools();

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.True(result.Json.GetProperty("duplicated").GetInt32() > 0);
        Assert.False(result.Json.GetProperty("ok").GetBoolean());
    }
}
