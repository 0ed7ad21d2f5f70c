using System.Text.Json;
using Xunit.Abstractions;

namespace ExactlyOnce.Tests.Client;

/// <summary>
/// <c>client bench --silos 2</c> on a fresh database: the client starts its own silos, runs the
/// same workload in each mode, and reports figures that must add up (no speed is asserted here:
/// speed lives in docs/performance.md).
/// </summary>
[Trait("Category", "Integration")]
[Trait("Kind", "Process")]
public sealed class When_the_bench_runs(ITestOutputHelper output)
{
    [Fact]
    public async Task Should_measure_every_mode_end_to_end_and_verify_each_run()
    {
        await using var db = await TestDatabase.CreateAsync("bench");
        var client = new ClientProcess(db.ConnectionString, "unused") { Timeout = TimeSpan.FromMinutes(8) };
        var port = 30000 + Random.Shared.Next(0, 5000) * 4;

        var result = await client.RunAsync(
            "bench", "--silos", "2", "--base-port", $"{port}", "--orders", "4", "--messages", "80", "--warmup", "20", "--concurrency", "4", "--json");

        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == 0, result.ToString());
        var report = result.Json;
        Assert.True(report.GetProperty("ok").GetBoolean());
        var modes = report.GetProperty("modes").EnumerateArray().ToDictionary(m => m.GetProperty("mode").GetString()!);
        Assert.Equal(["exactly-once", "at-least-once", "at-most-once"], modes.Keys);
        foreach (var mode in new[] { "exactly-once", "at-least-once" })
        {
            var m = modes[mode];
            Assert.Equal(80, m.GetProperty("applied").GetInt32()); // no fault: every message reached B once
            Assert.True(m.GetProperty("verified").GetBoolean());
            Assert.True(m.GetProperty("throughput").GetDouble() > 0);
            var latency = m.GetProperty("latencyMs");
            Assert.True(latency.GetProperty("p50").GetDouble() > 0);
            Assert.True(latency.GetProperty("p50").GetDouble() <= latency.GetProperty("p99").GetDouble());
            Assert.True(latency.GetProperty("p99").GetDouble() <= latency.GetProperty("max").GetDouble());
            // Two hops, each a stream insert, its claim and its delete, and a state write: at least 6
            // rows and 4 commits per message, once PostgreSQL has published every backend's counts
            // (read too early, a run this short showed 1.26 commits and 1.35 rows per message).
            Assert.True(m.GetProperty("commitsPerMessage").GetDouble() >= 4, $"{mode}: {m}");
            Assert.True(m.GetProperty("rowsWrittenPerMessage").GetDouble() >= 6, $"{mode}: {m}");
            // Local PostgreSQL and silos started by the bench: both CPU figures are measured.
            Assert.True(m.GetProperty("siloCpuSecondsPer1000").GetDouble() > 0, $"{mode}: {m}");
            Assert.True(m.GetProperty("databaseCpuSecondsPer1000").GetDouble() > 0, $"{mode}: {m}");
        }

        var runs = report.GetProperty("runs").EnumerateArray().ToList();
        Assert.Equal(3, runs.Count);
        Assert.All(runs, r => Assert.True(r.GetProperty("verdict").GetProperty("quiescent").GetBoolean()));
        var eo = modes["exactly-once"].GetProperty("throughput").GetDouble();
        var alo = modes["at-least-once"].GetProperty("throughput").GetDouble();
        Assert.Equal(Math.Round(eo / alo, 3), report.GetProperty("exactlyOnceToAtLeastOnce").GetDouble(), 3);
        // Timed messages carry their publish time to the bill: the latency is publish -> applied at B.
        Assert.All(runs, r => Assert.Equal(JsonValueKind.Object, r.GetProperty("latencyMs").ValueKind));
    }
}
