using System.Diagnostics;
using ExactlyOnce.Client.Commands;
using ExactlyOnce.Client.Runs;
using ExactlyOnce.Client.Verification;
using ExactlyOnce.Grains.Billing;
using ExactlyOnce.Grains.Messages;
using ExactlyOnce.Hosting.Processes;
using Npgsql;
using ExactlyOnce.Messaging;

namespace ExactlyOnce.Client.Bench;

/// <summary>
/// The same workload through A -> B in each mode, one after the other in one process and on one
/// cluster (rounds alternate the modes), each after a warm-up that is not measured. A measured run
/// goes from its first publish to the last bill entry; then the cluster drains and the verifier
/// judges the run.
/// </summary>
public sealed class BenchRunner(BenchOptions options, ClientSession session)
{
    private readonly List<SiloProcess> _silos = [];

    public async Task<BenchReport> RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            // First, while no silo of the bench polls: the database alone, at the same concurrency.
            DatabaseCeiling.Result? ceiling = null;
            if (options.CeilingScript is { } script)
            {
                session.Printer.Note($"ceiling: pgbench with the statements of one message, {options.Concurrency} clients, {options.CeilingSeconds} s");
                ceiling = await DatabaseCeiling.MeasureAsync(script, session.Cluster.ConnectionString, options.Concurrency, options.CeilingSeconds, cancellationToken);
                session.Printer.Note($"ceiling: {ceiling.MessagesPerSecond:0.0} messages/s ({ceiling.CommitsPerMessage} commits per message)");
            }

            if (options.Silos is { } count)
            {
                await StartSilosAsync(count, cancellationToken);
            }

            var client = await session.ClientAsync(cancellationToken);
            var database = await session.DatabaseAsync(cancellationToken);
            var inspector = new ClusterInspector(client, database, session.ServiceId);
            var runs = new List<BenchRun>();
            var latencies = options.Modes.ToDictionary(m => m, _ => new List<double>());
            // Every mode warms up before any is measured: a mode measured while the silos still
            // compile hot code (tiered JIT) was seen to cost twice the silo CPU of the same mode
            // measured later (docs/performance.md).
            if (options.Warmup > 0)
            {
                foreach (var mode in options.Modes)
                {
                    await WarmUpAsync(inspector, mode, cancellationToken);
                }
            }

            for (var round = 1; round <= options.Rounds; round++)
            {
                foreach (var mode in options.Modes)
                {
                    var (run, measured) = await MeasureAsync(inspector, database, mode, round, cancellationToken);
                    runs.Add(run);
                    latencies[mode].AddRange(measured);
                }
            }

            var summaries = options.Modes.Select(m => Summarize(m, runs.Where(r => r.Mode == Arguments.ModeName(m)).ToList(), latencies[m])).ToList();
            var eo = summaries.FirstOrDefault(s => s.Mode == Arguments.ModeName(DeliveryMode.ExactlyOnce))?.Throughput;
            var alo = summaries.FirstOrDefault(s => s.Mode == Arguments.ModeName(DeliveryMode.AtLeastOnce))?.Throughput;
            double? ratio = eo is { } e && alo is > 0 ? Math.Round(e / alo.Value, 3) : null;
            double? ofCeiling = eo is { } e2 && ceiling is { MessagesPerSecond: > 0 } c ? Math.Round(e2 / c.MessagesPerSecond, 3) : null;
            // At-most-once may lose by design; the guarantees of the other two must hold.
            var ok = runs.Where(r => r.Mode != Arguments.ModeName(DeliveryMode.AtMostOnce)).All(r => r.Verdict.Ok);
            return new BenchReport(options.Name, options.Silos, options.Orders, options.ItemsPerOrder * options.Orders, options.Concurrency,
                options.Rate, options.Warmup, options.Rounds, Environment.ProcessorCount, runs, summaries, ratio, ok, options.SiloArgs,
                ceiling?.MessagesPerSecond, ofCeiling);
        }
        finally
        {
            await Task.WhenAll(_silos.Select(s => s.StopAsync(TimeSpan.FromSeconds(15))));
        }
    }

    private async Task StartSilosAsync(int count, CancellationToken cancellationToken)
    {
        var logs = Path.Combine(Environment.CurrentDirectory, ".runs", "bench", options.Name);
        Directory.CreateDirectory(logs);
        session.Printer.Note($"bench {options.Name}: starting {count} silos, logs in {logs}");
        string[] args = ["--connection-string", session.Cluster.ConnectionString, "--cluster-id", session.Cluster.ClusterId, "--service-id", session.Cluster.ServiceId, .. options.SiloArgs ?? []];
        for (var i = 0; i < count; i++)
        {
            _silos.Add(new SiloProcess(options.SiloDll!, options.BasePort + 2 * i, options.BasePort + 2 * i + 1, args, Path.Combine(logs, $"silo{i + 1}.log")));
        }

        await Task.WhenAll(_silos.Select(s => s.StartAsync(TimeSpan.FromSeconds(90), cancellationToken)));
    }

    /// <summary>A small run of the same shape, drained and not measured: JIT, pools and connections warm.</summary>
    private async Task WarmUpAsync(ClusterInspector inspector, DeliveryMode mode, CancellationToken cancellationToken)
    {
        var items = Math.Max(1, options.Warmup / options.Orders);
        var warmup = Workload.Create($"{options.Name}-warm-{Short(mode)}", mode, options.Orders, items, 0, seed: 1);
        session.Printer.Note($"{Arguments.ModeName(mode)}: warm-up of {warmup.Messages.Count} messages");
        await LoadRunner.RunAsync(session, warmup, options.Rate, seed: 1, cancellationToken, options.Concurrency);
        await inspector.WaitForQuiescenceAsync(warmup, options.Timeout, session.Printer.Note, cancellationToken);
    }

    private async Task<(BenchRun Run, List<double> LatenciesMs)> MeasureAsync(
        ClusterInspector inspector, NpgsqlDataSource database, DeliveryMode mode, int round, CancellationToken cancellationToken)
    {
        var workload = Workload.Create($"{options.Name}-{Short(mode)}-{round}", mode, options.Orders, options.ItemsPerOrder, 0, seed: round);
        var expected = workload.Messages.Count;
        session.Printer.Note($"{Arguments.ModeName(mode)} round {round}: {expected} messages, {options.Orders} orders, concurrency {options.Concurrency}");

        var dbBefore = await DatabaseCounters.ReadAsync(database, cancellationToken);
        var silosBefore = SiloCpu();
        var clientBefore = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
        var firstPublish = DateTime.UtcNow;
        var publishClock = Stopwatch.StartNew();
        await LoadRunner.RunAsync(session, workload, options.Rate, seed: round, cancellationToken, options.Concurrency);
        var publishSeconds = publishClock.Elapsed.TotalSeconds;

        var applied = await WaitUntilAppliedAsync(inspector, workload, expected, cancellationToken);
        var silosAfter = SiloCpu();
        var clientAfter = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
        var dbCpuAfter = (await DatabaseCounters.ReadAsync(database, cancellationToken)).CpuSeconds;
        // A backend publishes its commit and row counts when it goes idle, at most once a second:
        // read them once every backend of the run has (the pollers' commits of this wait count too).
        await Task.Delay(DatabaseCounters.PublishDelay, cancellationToken);
        var dbAfter = await DatabaseCounters.ReadAsync(database, cancellationToken);

        var report = await inspector.VerifyAsync(workload, options.Timeout, session.Printer.Note, cancellationToken);
        var states = await inspector.ReadStatesAsync(workload);
        var items = states.Values.SelectMany(s => s.BillItems).ToList();
        var latencies = items.Where(i => i is { SentAt: not null, AppliedAt: not null })
            .Select(i => (i.AppliedAt!.Value - i.SentAt!.Value).TotalMilliseconds).ToList();
        var lastApplied = items.Max(i => i.AppliedAt) ?? DateTime.UtcNow;
        var seconds = Math.Max(0.001, (lastApplied - firstPublish).TotalSeconds);
        var perThousand = 1000.0 / Math.Max(1, applied);
        var run = new BenchRun(
            Arguments.ModeName(mode), round, workload.Name, expected, applied, Math.Round(seconds, 2),
            Math.Round(applied / seconds, 1), Math.Round(expected / Math.Max(0.001, publishSeconds), 1), LatencySummary.Of(latencies),
            Per(silosAfter - silosBefore, perThousand), Per(dbCpuAfter - dbBefore.CpuSeconds, perThousand),
            Math.Round((clientAfter - clientBefore) * perThousand, 3),
            Math.Round((dbAfter.Commits - dbBefore.Commits) / (double)Math.Max(1, applied), 2),
            Math.Round((dbAfter.RowsWritten - dbBefore.RowsWritten) / (double)Math.Max(1, applied), 2),
            new BenchVerdict(report.Ok, report.Quiescent, report.Lost, report.Duplicated, report.Ghost, report.Inconsistent, report.Reordered));
        session.Printer.Note($"{run.Mode} round {round}: {run.Throughput} msg/s end to end, p50 {run.LatencyMs?.P50} ms, verdict {(run.Verdict.Ok ? "OK" : "FAILED")}");
        return (run, latencies);
    }

    /// <summary>
    /// Polls the bills until the workload's entries are all there; a mode that loses stops when
    /// nothing has moved for 10 s and nothing is left in the stream. Returns the entries counted.
    /// </summary>
    private async Task<int> WaitUntilAppliedAsync(ClusterInspector inspector, RunRecord workload, int expected, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + options.Timeout;
        var (last, still) = (-1, Stopwatch.StartNew());
        while (true)
        {
            var applied = 0;
            foreach (var order in workload.OrderIds)
            {
                applied += (await (await session.ClientAsync(cancellationToken)).GetGrain<IBillingGrain>(order).GetBill()).Items.Count;
            }

            if (applied >= expected || DateTime.UtcNow > deadline)
            {
                return applied;
            }

            if (applied != last)
            {
                (last, still) = (applied, Stopwatch.StartNew());
            }
            else if (still.Elapsed > TimeSpan.FromSeconds(10) && await inspector.StreamBacklogAsync(cancellationToken) == 0)
            {
                return applied;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken);
        }
    }

    private double? SiloCpu() => _silos.Count == 0 ? null : ProcessCpu.SecondsOf(_silos.Select(s => s.ProcessId));

    private static double? Per(double? seconds, double perThousand) => seconds is { } s ? Math.Round(s * perThousand, 3) : null;

    private static string Short(DeliveryMode mode) => mode switch
    {
        DeliveryMode.ExactlyOnce => "eo",
        DeliveryMode.AtLeastOnce => "alo",
        _ => "amo",
    };

    private static BenchModeSummary Summarize(DeliveryMode mode, List<BenchRun> runs, List<double> latencies)
    {
        var applied = runs.Sum(r => r.Applied);
        var seconds = runs.Sum(r => r.Seconds);
        double? Weighted(Func<BenchRun, double?> per) =>
            runs.All(r => per(r) is not null) ? Math.Round(runs.Sum(r => per(r)!.Value * r.Applied) / Math.Max(1, applied), 3) : null;
        return new BenchModeSummary(
            Arguments.ModeName(mode), runs.Sum(r => r.Messages), applied, Math.Round(applied / Math.Max(0.001, seconds), 1),
            Math.Round(runs.Sum(r => r.Messages) / Math.Max(0.001, runs.Sum(r => r.Messages / r.PublishRate)), 1),
            LatencySummary.Of(latencies), Weighted(r => r.SiloCpuSecondsPer1000), Weighted(r => r.DatabaseCpuSecondsPer1000),
            Weighted(r => r.CommitsPerMessage) ?? 0, Weighted(r => r.RowsWrittenPerMessage) ?? 0, runs.All(r => r.Verdict.Ok));
    }
}
