using Microsoft.Extensions.Logging;

namespace ExactlyOnce.Messaging;

/// <summary>Protocol decisions, each with the message id and component (event ids 1000-1099).</summary>
internal static partial class MessagingLog
{
    [LoggerMessage(1000, LogLevel.Debug, "{Component}: applied {MessageId}, {Outgoing} outgoing message(s)")]
    public static partial void Applied(ILogger logger, string component, Guid messageId, int outgoing);

    [LoggerMessage(1001, LogLevel.Information, "{Component}: duplicate {MessageId} ignored; re-sending {Pending} pending outgoing message(s)")]
    public static partial void Duplicate(ILogger logger, string component, Guid messageId, int pending);

    [LoggerMessage(1002, LogLevel.Debug, "{Component}: dispatched {MessageId} (caused by {CausedBy})")]
    public static partial void Dispatched(ILogger logger, string component, Guid messageId, Guid causedBy);

    [LoggerMessage(1003, LogLevel.Information, "{Component}: flushing {Count} committed outbox message(s)")]
    public static partial void FlushingOutbox(ILogger logger, string component, int count);

    [LoggerMessage(1004, LogLevel.Warning, "{Component}: write of {MessageId} fenced by the storage ETag; deactivating the stale activation")]
    public static partial void Fenced(ILogger logger, string component, Guid messageId);

    [LoggerMessage(1005, LogLevel.Information, "{Component}: at-most-once drops {MessageId}, seen before")]
    public static partial void Dropped(ILogger logger, string component, Guid messageId);

    [LoggerMessage(1006, LogLevel.Warning, "{Component}: at-most-once acknowledges {MessageId} despite a failure (its effects are lost): {Reason}")]
    public static partial void Lost(ILogger logger, string component, Guid messageId, string reason);

    [LoggerMessage(1007, LogLevel.Debug, "{Component}: forgot {Pruned} inbox id(s) past the retention bound, {Remaining} kept")]
    public static partial void InboxPruned(ILogger logger, string component, int pruned, int remaining);

    [LoggerMessage(1008, LogLevel.Warning, "{Component}: rejected message {MessageId} to the dead letters: {Reason}")]
    public static partial void Rejected(ILogger logger, string component, Guid? messageId, string reason);

    [LoggerMessage(1009, LogLevel.Warning, "{Component}: processing {MessageId} failed, it will be redelivered: {Reason}")]
    public static partial void Failed(ILogger logger, string component, Guid messageId, string reason);

    [LoggerMessage(1010, LogLevel.Error, "{Component}: state write for {MessageId} failed; deactivating, the next activation reads storage")]
    public static partial void WriteFailed(ILogger logger, string component, Guid messageId, Exception exception);

    [LoggerMessage(1011, LogLevel.Debug, "{Component}: {MessageId} ({ProducerId} #{Sequence}) is held already")]
    public static partial void DuplicateHeld(ILogger logger, string component, Guid messageId, string producerId, long sequence);

    [LoggerMessage(1012, LogLevel.Debug, "{Component}: applied {MessageId} ({ProducerId} #{Sequence}), {Outgoing} outgoing message(s)")]
    public static partial void AppliedSequenced(ILogger logger, string component, Guid messageId, string producerId, long sequence, int outgoing);

    [LoggerMessage(1013, LogLevel.Debug, "{Component}: held {MessageId} ({ProducerId} #{Sequence}) until #{Mark} is followed")]
    public static partial void Held(ILogger logger, string component, Guid messageId, string producerId, long sequence, long mark);

    [LoggerMessage(1014, LogLevel.Information, "{Component}: hold-back buffer full, parked {MessageId} ({ProducerId} #{Sequence})")]
    public static partial void Parked(ILogger logger, string component, Guid messageId, string producerId, long sequence);

    [LoggerMessage(1015, LogLevel.Error, "{Component}: sequence conflict, {MessageId} claims {ProducerId} #{Sequence} already taken by {Holder}; quarantined")]
    public static partial void SequenceConflict(ILogger logger, string component, Guid messageId, string producerId, long sequence, string holder);

    [LoggerMessage(1016, LogLevel.Warning, "{Component}: held {MessageId} ({ProducerId} #{Sequence}) failed (failure {Failures}); it stays held and its producer's later messages wait")]
    public static partial void HeldFailed(ILogger logger, string component, Guid messageId, string producerId, long sequence, int failures, Exception exception);

    [LoggerMessage(1017, LogLevel.Debug, "{Component}: moved {Count} parked message(s) of {ProducerId} into the buffer")]
    public static partial void Unparked(ILogger logger, string component, string producerId, int count);

    [LoggerMessage(1018, LogLevel.Error, "{Component}: held {MessageId} ({ProducerId} #{Sequence}) failed {Failures} times and went to the dead letters; the producer's later messages wait until it is replayed or discarded")]
    public static partial void HeldDeadLettered(ILogger logger, string component, Guid messageId, string producerId, long sequence, int failures);

    [LoggerMessage(1019, LogLevel.Debug, "{Component}: runs retired through incarnation {Watermark}; dropped {Dropped} producer entr(ies)")]
    public static partial void RunsRetired(ILogger logger, string component, long watermark, int dropped);

    [LoggerMessage(1020, LogLevel.Warning, "{Component}: {MessageId} ({ProducerId} #{Sequence}) failed (failure {Failures}, {Kind}); decision: {Action} {Delay}")]
    public static partial void AttemptFailed(ILogger logger, string component, Guid messageId, string producerId, long sequence, int failures, RetryAction action, FailureKind kind, TimeSpan delay, Exception exception);
}
