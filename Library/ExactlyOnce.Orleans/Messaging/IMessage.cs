namespace ExactlyOnce.Messaging;

/// <summary>
/// A message on a stream. The sender sets <see cref="MessageId"/>; a retried send carries the same
/// id. Exactly-once senders also number their messages: <see cref="ProducerId"/> and
/// <see cref="Sequence"/> (1, 2, 3 … per producer and destination stream), which is what the
/// receiver deduplicates and orders on (never the stream's sequence token).
/// </summary>
public interface IMessage
{
    /// <summary>Identity chosen by the sender.</summary>
    Guid MessageId { get; }

    /// <summary>
    /// Exactly-once (the default; leave it). The weaker modes exist to compare against: a message
    /// that says <see cref="DeliveryMode.AtLeastOnce"/> or <see cref="DeliveryMode.AtMostOnce"/> is
    /// processed without the protocol, as a system without it would, and so are the messages it causes.
    /// </summary>
    DeliveryMode Mode => DeliveryMode.ExactlyOnce;

    /// <summary>Who numbered this message (see <c>ProducerIds</c>), or null for an unsequenced message.</summary>
    string? ProducerId { get; }

    /// <summary>Position of this message among its producer's messages to the same stream, from 1; 0 when unsequenced.</summary>
    long Sequence { get; }

    /// <summary>The same message numbered by <paramref name="producerId"/> as its <paramref name="sequence"/>-th to its stream.</summary>
    IMessage WithSequence(string producerId, long sequence);
}
