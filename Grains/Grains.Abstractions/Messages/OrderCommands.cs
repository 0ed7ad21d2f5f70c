using ExactlyOnce.Messaging;

namespace ExactlyOnce.Grains.Messages;

/// <summary>A command on the <c>orders</c> stream (key = <see cref="OrderId"/>).</summary>
[GenerateSerializer, Immutable, Alias("order-command")]
public abstract record OrderCommand(
    [property: Id(0)] Guid MessageId,
    [property: Id(1)] string OrderId,
    [property: Id(2)] DeliveryMode Mode) : IMessage
{
    /// <inheritdoc/>
    [Id(3)] public string? ProducerId { get; init; }

    /// <inheritdoc/>
    [Id(4)] public long Sequence { get; init; }
    /// <summary>When the client published this copy (UTC), for end-to-end latency; null when not measured.</summary>
    [Id(5)] public DateTime? SentAt { get; init; }

    /// <inheritdoc/>
    public IMessage WithSequence(string producerId, long sequence) => this with { ProducerId = producerId, Sequence = sequence };
}

/// <summary>Add one line of <see cref="Filling"/> to the order.</summary>
[GenerateSerializer, Immutable, Alias("add-item")]
public sealed record AddItem(Guid MessageId, string OrderId, [property: Id(0)] Filling Filling, DeliveryMode Mode = DeliveryMode.ExactlyOnce)
    : OrderCommand(MessageId, OrderId, Mode);

/// <summary>Remove one line of <see cref="Filling"/> from the order, if it has one.</summary>
[GenerateSerializer, Immutable, Alias("remove-item")]
public sealed record RemoveItem(Guid MessageId, string OrderId, [property: Id(0)] Filling Filling, DeliveryMode Mode = DeliveryMode.ExactlyOnce)
    : OrderCommand(MessageId, OrderId, Mode);
