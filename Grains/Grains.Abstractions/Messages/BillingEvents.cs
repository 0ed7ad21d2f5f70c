using ExactlyOnce.Messaging;

namespace ExactlyOnce.Grains.Messages;

/// <summary>An event on the <c>billing</c> stream (key = <see cref="OrderId"/>), sent by the order.</summary>
[GenerateSerializer, Immutable, Alias("billing-event")]
public abstract record BillingEvent(
    [property: Id(0)] Guid MessageId,
    [property: Id(1)] string OrderId,
    [property: Id(2)] Filling Filling,
    [property: Id(3)] int LineCount,
    [property: Id(4)] DeliveryMode Mode) : IMessage
{
    /// <inheritdoc/>
    [Id(5)] public string? ProducerId { get; init; }

    /// <inheritdoc/>
    [Id(6)] public long Sequence { get; init; }
    /// <summary>The <see cref="OrderCommand.SentAt"/> of the command that caused this event, carried on for latency.</summary>
    [Id(7)] public DateTime? SentAt { get; init; }

    /// <inheritdoc/>
    public IMessage WithSequence(string producerId, long sequence) => this with { ProducerId = producerId, Sequence = sequence };
}

/// <summary>A line was added; <see cref="BillingEvent.LineCount"/> is the number of lines right after the add.</summary>
[GenerateSerializer, Immutable, Alias("item-added")]
public sealed record ItemAdded(Guid MessageId, string OrderId, Filling Filling, int LineCount, DeliveryMode Mode)
    : BillingEvent(MessageId, OrderId, Filling, LineCount, Mode);

/// <summary>A line was removed; <see cref="BillingEvent.LineCount"/> is the number of lines right after the removal.</summary>
[GenerateSerializer, Immutable, Alias("item-removed")]
public sealed record ItemRemoved(Guid MessageId, string OrderId, Filling Filling, int LineCount, DeliveryMode Mode)
    : BillingEvent(MessageId, OrderId, Filling, LineCount, Mode);
