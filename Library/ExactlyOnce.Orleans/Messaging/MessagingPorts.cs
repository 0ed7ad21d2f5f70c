
namespace ExactlyOnce.Messaging;

/// <summary>Where invalid messages go instead of the handler: the dead letters of this project.</summary>
public interface IDeadLetterSink
{
    /// <summary>Stores the rejected message; idempotent for the same message and reason.</summary>
    Task RejectAsync(RejectedMessage message);

    /// <summary>Stores a sequenced message given up after failing; idempotent per (receiver, producer, sequence).</summary>
    Task DeadLetterAsync(SequencedDeadLetter letter);
}

/// <summary>
/// A sequenced message whose handler kept failing: it leaves the receiver's state only once this is
/// stored, and its producer's later messages wait until it is replayed or discarded.
/// </summary>
public sealed record SequencedDeadLetter(
    string Component,
    string StreamNamespace,
    string StreamKey,
    IMessage Message,
    FailureRecord Failure);

/// <summary>How a message failed: how often, the last reason (exception type and message), and when it first and last failed.</summary>
public sealed record FailureRecord(int Failures, string Reason, DateTime FirstFailureUtc, DateTime LastFailureUtc);

/// <summary>A message refused before processing.</summary>
public sealed record RejectedMessage(
    string Component,
    string StreamNamespace,
    string StreamKey,
    Guid? MessageId,
    string MessageType,
    string Reason,
    string PayloadJson);

/// <summary>Audit of every copy published (each re-send too): what the verifier compares against.</summary>
public interface ISentMessageLog
{
    /// <summary>Records a published copy of <paramref name="message"/> (component, destination stream): the send audit the verifier reads.</summary>
    Task RecordAsync(string component, string streamNamespace, string streamKey, IMessage message);
}
