namespace ExactlyOnce.Grains.Messages;

/// <summary>
/// A message on a stream. The sender sets <see cref="MessageId"/>; a retried send carries the same
/// id, which is what the receiver deduplicates on (never the stream's sequence token).
/// </summary>
public interface IMessage
{
    /// <summary>Identity chosen by the sender.</summary>
    Guid MessageId { get; }

    /// <summary>Delivery mode of the workload this message belongs to.</summary>
    DeliveryMode Mode { get; }
}
