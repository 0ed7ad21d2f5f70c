namespace ExactlyOnce.Client.Bench;

/// <summary>End-to-end latency (client publish to the bill entry at B) in milliseconds.</summary>
public sealed record LatencySummary(double P50, double P95, double P99, double Max)
{
    public static LatencySummary? Of(IReadOnlyCollection<double> milliseconds)
    {
        if (milliseconds.Count == 0)
        {
            return null;
        }

        var sorted = milliseconds.Order().ToArray();
        return new LatencySummary(Percentile(sorted, 0.50), Percentile(sorted, 0.95), Percentile(sorted, 0.99), Math.Round(sorted[^1], 1));
    }

    /// <summary>Nearest rank.</summary>
    private static double Percentile(double[] sorted, double p) =>
        Math.Round(sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)], 1);
}

/// <summary>What the verifier said about one measured run: a fast run that loses or duplicates does not count.</summary>
public sealed record BenchVerdict(bool Ok, bool Quiescent, int Lost, int Duplicated, int Ghost, int Inconsistent, int Reordered);

/// <summary>One measured run of one mode (warm-up excluded).</summary>
public sealed record BenchRun(
    string Mode,
    int Round,
    string Run,
    int Messages,
    int Applied,
    double Seconds,
    double Throughput,
    double PublishRate,
    LatencySummary? LatencyMs,
    double? SiloCpuSecondsPer1000,
    double? DatabaseCpuSecondsPer1000,
    double ClientCpuSecondsPer1000,
    double CommitsPerMessage,
    double RowsWrittenPerMessage,
    BenchVerdict Verdict);

/// <summary>One mode over all rounds: totals divided by totals, latency over every message.</summary>
public sealed record BenchModeSummary(
    string Mode,
    int Messages,
    int Applied,
    double Throughput,
    double PublishRate,
    LatencySummary? LatencyMs,
    double? SiloCpuSecondsPer1000,
    double? DatabaseCpuSecondsPer1000,
    double CommitsPerMessage,
    double RowsWrittenPerMessage,
    bool Verified);

/// <summary>The bench's result: every run, the per-mode summaries side by side, and the ratio that matters.</summary>
public sealed record BenchReport(
    string Name,
    int? SilosStarted,
    int Orders,
    int MessagesPerRun,
    int Concurrency,
    double? Rate,
    int Warmup,
    int Rounds,
    int Cores,
    IReadOnlyList<BenchRun> Runs,
    IReadOnlyList<BenchModeSummary> Modes,
    double? ExactlyOnceToAtLeastOnce,
    bool Ok,
    IReadOnlyList<string>? SiloArgs = null,
    double? CeilingMessagesPerSecond = null,
    double? ExactlyOnceOfCeiling = null);
