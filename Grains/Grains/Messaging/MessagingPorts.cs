using ExactlyOnce.Grains.Messages;

namespace ExactlyOnce.Grains.Messaging;

/// <summary>Where invalid messages go instead of the handler: the dead letters of this project.</summary>
public interface IDeadLetterSink
{
    /// <summary>Stores the rejected message; idempotent for the same message and reason.</summary>
    Task RejectAsync(RejectedMessage message);
}

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
    Task RecordAsync(string component, string streamNamespace, string streamKey, IMessage message);
}
