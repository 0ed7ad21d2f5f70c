
namespace ExactlyOnce.Messaging;

/// <summary>Where invalid messages go instead of the handler: the dead letters of this project.</summary>
internal interface IDeadLetterSink
{
    /// <summary>Stores the rejected message; idempotent for the same message and reason.</summary>
    Task RejectAsync(RejectedMessage message);

    /// <summary>Stores a sequenced message given up after failing; idempotent per (receiver, producer, sequence).</summary>
    Task DeadLetterAsync(SequencedDeadLetter letter);
}

/// <summary>
/// A sequenced message whose handler kept failing: it leaves the receiver's state only once this is
/// stored, and its producer's later messages wait until it is replayed or discarded. It keeps where
/// the message came from, so a replay can continue its trace.
/// </summary>
internal sealed record SequencedDeadLetter(
    string Component,
    string StreamNamespace,
    string StreamKey,
    IMessage Message,
    FailureRecord Failure,
    MessageOrigin Origin = default);

/// <summary>How a message failed: how often, the last reason (exception type and message), and when it first and last failed.</summary>
internal sealed record FailureRecord(int Failures, string Reason, DateTime FirstFailureUtc, DateTime LastFailureUtc);

/// <summary>A message refused before processing.</summary>
internal sealed record RejectedMessage(
    string Component,
    string StreamNamespace,
    string StreamKey,
    Guid? MessageId,
    string MessageType,
    string Reason,
    string PayloadJson);

/// <summary>
/// An optional audit of every copy a component publishes (each re-send too), called after the copy
/// was handed to the stream. None is kept unless the host registers one.
/// </summary>
public interface ISentMessageLog
{
    /// <summary>Records a published copy of <paramref name="message"/> (component, destination stream).</summary>
    Task RecordAsync(string component, string streamNamespace, string streamKey, IMessage message);
}

/// <summary>The default: sends are not recorded.</summary>
internal sealed class NoSentMessageLog : ISentMessageLog
{
    public Task RecordAsync(string component, string streamNamespace, string streamKey, IMessage message) => Task.CompletedTask;
}
