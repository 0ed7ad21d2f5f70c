using Microsoft.Extensions.Logging;

namespace ExactlyOnce.PostgreSql;

/// <summary>The PostgreSQL companion's log lines (event ids 2000-2099; docs/operations.md, "Logs").</summary>
internal static partial class PostgreSqlLog
{
    [LoggerMessage(2000, LogLevel.Information, "schema script {Script} applied")]
    public static partial void SchemaScriptApplied(ILogger logger, string script);

    [LoggerMessage(2010, LogLevel.Information, "published {Count} client message(s) recorded but unconfirmed for more than {Age}")]
    public static partial void Swept(ILogger logger, int count, TimeSpan age);

    [LoggerMessage(2011, LogLevel.Warning, "sweeping unconfirmed client messages failed; retrying on the next tick")]
    public static partial void SweepFailed(ILogger logger, Exception exception);

    [LoggerMessage(2020, LogLevel.Warning, "confirming {Count} message(s) of queue {QueueId} failed; attempt {Attempt}, trying again")]
    public static partial void ConfirmRetrying(ILogger logger, int count, string queueId, int attempt, Exception exception);

    [LoggerMessage(2021, LogLevel.Information, "confirmed {Count} message(s) of queue {QueueId} at attempt {Attempts}")]
    public static partial void Confirmed(ILogger logger, int count, string queueId, int attempts);

    [LoggerMessage(2022, LogLevel.Error, "gave up confirming {Count} message(s) of queue {QueueId} after {Attempts} attempts; their lease will run out and they will be delivered again")]
    public static partial void ConfirmGaveUp(ILogger logger, int count, string queueId, int attempts);

    [LoggerMessage(2030, LogLevel.Debug, "counting the stream backlog failed; the last count stays: {Reason}")]
    public static partial void BacklogCountFailed(ILogger logger, string reason);
}
