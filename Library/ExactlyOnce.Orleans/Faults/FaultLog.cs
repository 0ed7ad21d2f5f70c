using Microsoft.Extensions.Logging;

namespace ExactlyOnce.Faults;

/// <summary>Fault injection's log lines (event ids 1100-1199; docs/operations.md, "Logs").</summary>
internal static partial class FaultLog
{
    [LoggerMessage(1100, LogLevel.Information, "fault rules version {Version} applied: {Rules}")]
    public static partial void RulesApplied(ILogger logger, int version, string rules);

    /// <summary>Transient (a silo joining, the control grain moving after a crash): polled again a second later.</summary>
    [LoggerMessage(1101, LogLevel.Debug, "could not read the cluster-wide fault rules; trying again in a second")]
    public static partial void PollFailed(ILogger logger, Exception exception);
}
