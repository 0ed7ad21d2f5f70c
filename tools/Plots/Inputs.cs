using System.Text.Json;

namespace ExactlyOnce.Plots;

/// <summary>A file that cannot be plotted: the message is the one line the tool prints.</summary>
public sealed class InputException(string message) : Exception(message);

/// <summary>
/// The fields of the bench's <c>--json</c> report that the plots use (the client's
/// <c>BenchReport</c>, camelCase); everything else in the file is ignored. <see cref="Rate"/> is
/// the offered load of <c>--rate</c>, null for a run without it (saturated).
/// </summary>
public sealed record BenchFile(
    int Orders,
    int MessagesPerRun,
    int Concurrency,
    int Warmup,
    int Rounds,
    int Cores,
    IReadOnlyList<BenchMode> Modes,
    double? Rate = null,
    int? SilosStarted = null);

/// <summary>One delivery mode's summary over the rounds of one bench run.</summary>
public sealed record BenchMode(string Mode, double Throughput, double PublishRate, BenchLatency? LatencyMs, bool Verified);

/// <summary>End-to-end latency in milliseconds (only the percentile plotted).</summary>
public sealed record BenchLatency(double P99);

/// <summary>What <c>scripts/state-size.sh --json</c> prints.</summary>
public sealed record StateSizeFile(string Silo, string Format, string State, IReadOnlyList<StateSizeEntry> Entries);

/// <summary>
/// One order after <see cref="Messages"/> messages: the stored bytes of its state row, split into
/// business data and protocol part, the verifier's verdict (null when it gave none), the messages
/// per second of that load and its verification (wall time of the two client commands), and the
/// messages per second from the first publish to the order's last state write (null when the
/// script could not tell).
/// </summary>
public sealed record StateSizeEntry(
    int Messages,
    long StoredBytes,
    long DataBytes,
    long ProtocolBytes,
    bool? Ok,
    double Seconds,
    double Throughput,
    double? AppliedSeconds = null,
    double? AppliedThroughput = null);

public static class Inputs
{
    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        // A file without a field the plots need is not silently read as zeros.
        RespectRequiredConstructorParameters = true,
        RespectNullableAnnotations = true,
    };

    public static BenchFile ReadBench(string path)
    {
        var file = Read<BenchFile>(path, "a bench report (bench --json)");
        if (file.Modes.Count == 0)
        {
            throw new InputException($"{path}: the bench report has no modes");
        }

        foreach (var mode in file.Modes)
        {
            if (!double.IsFinite(mode.Throughput) || mode.Throughput < 0 || !double.IsFinite(mode.PublishRate) || mode.PublishRate < 0)
            {
                throw new InputException($"{path}: mode {mode.Mode} has no valid throughput or publish rate");
            }
        }

        return file;
    }

    public static StateSizeFile ReadStateSize(string path)
    {
        var file = Read<StateSizeFile>(path, "a state-size report (scripts/state-size.sh --json)");
        if (file.Entries.Count == 0)
        {
            throw new InputException($"{path}: the state-size report has no entries");
        }

        if (file.Entries.Any(e => e.Messages <= 0 || e.StoredBytes < 0))
        {
            throw new InputException($"{path}: an entry has no positive message count or a negative size");
        }

        return file;
    }

    private static T Read<T>(string path, string what)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InputException($"cannot read {path}: {e.Message}");
        }

        try
        {
            return JsonSerializer.Deserialize<T>(text, Options) ?? throw new InputException($"{path}: is null, not {what}");
        }
        catch (JsonException e)
        {
            throw new InputException($"{path}: not {what}: {e.Message.Split('\n')[0]}");
        }
    }
}
