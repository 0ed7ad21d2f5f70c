using Microsoft.Extensions.Logging;

namespace ExactlyOnce.Silo;

/// <summary>The silo host's log lines (event ids 3000-3099; docs/operations.md, "Logs").</summary>
internal static partial class SiloLog
{
    [LoggerMessage(3000, LogLevel.Information, "retired runs: watermark {From} -> {To}, {Receivers} receiver(s) told")]
    public static partial void Retired(ILogger logger, long from, long to, int receivers);

    [LoggerMessage(3001, LogLevel.Warning, "retiring finished runs failed; retrying on the next tick")]
    public static partial void RetireFailed(ILogger logger, Exception exception);

    [LoggerMessage(3010, LogLevel.Information, "purged {Count} send audit row(s) older than {Retention}")]
    public static partial void Purged(ILogger logger, int count, TimeSpan retention);

    [LoggerMessage(3011, LogLevel.Warning, "purging the send audit failed; retrying on the next pass")]
    public static partial void PurgeFailed(ILogger logger, Exception exception);
}
