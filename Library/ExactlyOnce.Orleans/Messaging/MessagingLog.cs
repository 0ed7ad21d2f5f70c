using Microsoft.Extensions.Logging;

namespace ExactlyOnce.Messaging;

/// <summary>
/// The messaging core's log lines, each with the component and the message id (event ids
/// 1000-1099; docs/operations.md, "Logs"). Per-message events (applied, duplicate, held,
/// dispatched, parked, unparked) are Debug; decisions (fenced, rejected, dead-lettered, discarded,
/// at-most-once losses, producers blocked, recovery re-sends) Information or above. An exception
/// goes with the line of whoever stops it; one that leaves the core (a failed or fenced write, a
/// failure sent back to the stream) is logged with its stack trace by whoever catches it (Orleans'
/// pulling agent, reminder, timer or activation; the caller of a grain method), so the core's line
/// for it names it without the stack trace.
/// </summary>
internal static partial class MessagingLog
{
    [LoggerMessage(1000, LogLevel.Debug, "{Component}: applied {MessageId}, {Outgoing} outgoing message(s)")]
    public static partial void Applied(ILogger logger, string component, Guid messageId, int outgoing);

    [LoggerMessage(1001, LogLevel.Debug, "{Component}: duplicate {MessageId} ignored; re-sending {Pending} pending outgoing message(s)")]
    public static partial void Duplicate(ILogger logger, string component, Guid messageId, int pending);

    [LoggerMessage(1002, LogLevel.Debug, "{Component}: dispatched {MessageId} (caused by {CausedBy})")]
    public static partial void Dispatched(ILogger logger, string component, Guid messageId, Guid causedBy);

    [LoggerMessage(1003, LogLevel.Information, "{Component}: flushing {Count} committed outbox message(s)")]
    public static partial void FlushingOutbox(ILogger logger, string component, int count);

    [LoggerMessage(1004, LogLevel.Warning, "{Component}: write of {MessageId} fenced by the storage ETag; deactivating the stale activation")]
    public static partial void Fenced(ILogger logger, string component, Guid messageId);

    [LoggerMessage(1005, LogLevel.Debug, "{Component}: at-most-once drops {MessageId}, seen before")]
    public static partial void Dropped(ILogger logger, string component, Guid messageId);

    [LoggerMessage(1006, LogLevel.Warning, "{Component}: at-most-once acknowledges {MessageId} despite a failure (its effects are lost)")]
    public static partial void Lost(ILogger logger, string component, Guid messageId, Exception exception);

    [LoggerMessage(1007, LogLevel.Debug, "{Component}: forgot {Pruned} inbox id(s) past the retention bound, {Remaining} kept")]
    public static partial void InboxPruned(ILogger logger, string component, int pruned, int remaining);

    [LoggerMessage(1008, LogLevel.Warning, "{Component}: rejected message {MessageId} to the dead letters: {Reason}")]
    public static partial void Rejected(ILogger logger, string component, Guid? messageId, string reason);

    /// <summary>A failure leaving the core towards Orleans, which logs it with its stack trace (and redelivers a delivery): here only its message id.</summary>
    public static void Failed(ILogger logger, string component, Guid messageId, Exception exception)
    {
        if (logger.IsEnabled(LogLevel.Debug))
        {
            Failed(logger, component, messageId, exception.GetType().Name, exception.Message);
        }
    }

    [LoggerMessage(1009, LogLevel.Debug, "{Component}: processing {MessageId} failed ({ExceptionType}: {Reason}); Orleans logs the exception and redelivers")]
    private static partial void Failed(ILogger logger, string component, Guid messageId, string exceptionType, string reason);

    /// <summary>The write failure goes up inside a <see cref="StateWriteFailedException"/>, logged with its stack trace where it is caught.</summary>
    public static void WriteFailed(ILogger logger, string component, Guid messageId, Exception exception)
    {
        if (logger.IsEnabled(LogLevel.Error))
        {
            WriteFailed(logger, component, messageId, exception.GetType().Name, exception.Message);
        }
    }

    [LoggerMessage(1010, LogLevel.Error, "{Component}: state write for {MessageId} failed ({ExceptionType}: {Reason}); deactivating, the next activation reads storage")]
    private static partial void WriteFailed(ILogger logger, string component, Guid messageId, string exceptionType, string reason);

    [LoggerMessage(1011, LogLevel.Debug, "{Component}: {MessageId} ({ProducerId} #{Sequence}) is held already")]
    public static partial void DuplicateHeld(ILogger logger, string component, Guid messageId, string producerId, long sequence);

    [LoggerMessage(1012, LogLevel.Debug, "{Component}: applied {MessageId} ({ProducerId} #{Sequence}), {Outgoing} outgoing message(s)")]
    public static partial void AppliedSequenced(ILogger logger, string component, Guid messageId, string producerId, long sequence, int outgoing);

    [LoggerMessage(1013, LogLevel.Debug, "{Component}: held {MessageId} ({ProducerId} #{Sequence}) until #{Mark} is followed")]
    public static partial void Held(ILogger logger, string component, Guid messageId, string producerId, long sequence, long mark);

    [LoggerMessage(1014, LogLevel.Debug, "{Component}: hold-back buffer full, parked {MessageId} ({ProducerId} #{Sequence})")]
    public static partial void Parked(ILogger logger, string component, Guid messageId, string producerId, long sequence);

    [LoggerMessage(1015, LogLevel.Error, "{Component}: sequence conflict, {MessageId} claims {ProducerId} #{Sequence} already taken by {Holder}; quarantined")]
    public static partial void SequenceConflict(ILogger logger, string component, Guid messageId, string producerId, long sequence, string holder);

    [LoggerMessage(1017, LogLevel.Debug, "{Component}: moved {Count} parked message(s) of {ProducerId} into the buffer")]
    public static partial void Unparked(ILogger logger, string component, string producerId, int count);

    [LoggerMessage(1018, LogLevel.Error, "{Component}: held {MessageId} ({ProducerId} #{Sequence}) failed {Failures} times and went to the dead letters; the producer's later messages wait until it is replayed or discarded")]
    public static partial void HeldDeadLettered(ILogger logger, string component, Guid messageId, string producerId, long sequence, int failures);

    [LoggerMessage(1019, LogLevel.Debug, "{Component}: runs retired through incarnation {Watermark}; dropped {Dropped} producer entr(ies)")]
    public static partial void RunsRetired(ILogger logger, string component, long watermark, int dropped);

    /// <summary>
    /// One failed attempt and the policy's decision, with the exception when it stops here: an
    /// immediate retry at Debug (the attempt that finally succeeds or gives up is what matters),
    /// any other decision at Warning. <paramref name="exception"/> null: it goes up to Orleans,
    /// which logs it.
    /// </summary>
    public static void AttemptFailed(ILogger logger, string component, Guid messageId, string producerId, long sequence, int failures, RetryAction action, FailureKind kind, TimeSpan delay, Exception? exception) =>
        AttemptFailed(logger, action == RetryAction.RetryNow ? LogLevel.Debug : LogLevel.Warning, component, messageId, producerId, sequence, failures, action, kind, delay, exception);

    [LoggerMessage(EventId = 1020, Message = "{Component}: {MessageId} ({ProducerId} #{Sequence}) failed (failure {Failures}, {Kind}); decision: {Action} {Delay}")]
    private static partial void AttemptFailed(ILogger logger, LogLevel level, string component, Guid messageId, string producerId, long sequence, int failures, RetryAction action, FailureKind kind, TimeSpan delay, Exception? exception);

    [LoggerMessage(1021, LogLevel.Warning, "{Component} {Key}: could not persist the outbox clear on deactivation; the entries are re-sent and deduplicated later")]
    public static partial void DeactivationClearFailed(ILogger logger, string component, string key, Exception exception);
}
