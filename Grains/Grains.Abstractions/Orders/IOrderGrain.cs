using ExactlyOnce.Grains.Messages;
using ExactlyOnce.Messaging;
using Orleans.Concurrency;

namespace ExactlyOnce.Grains.Orders;

/// <summary>Component A: an order (key = order id), fed by the <c>orders</c> stream.</summary>
public interface IOrderGrain : IExactlyOnceReceiver, IGrainWithStringKey
{
    /// <summary>The committed order, its inbox size and pending outbox.</summary>
    [AlwaysInterleave]
    Task<OrderView> GetOrder();
}

/// <summary>
/// Read model of an order. <see cref="Exists"/> is false for an order whose state was never
/// stored: it never received anything (an order id nobody sent to reads as an empty order).
/// </summary>
[GenerateSerializer, Immutable, Alias("order-view")]
public sealed record OrderView(
    [property: Id(0)] string OrderId,
    [property: Id(1)] IReadOnlyList<Filling> Lines,
    [property: Id(2)] int InboxSize,
    [property: Id(3)] IReadOnlyList<PendingMessage> PendingOutbox,
    [property: Id(4)] bool Exists = true);

/// <summary>An outgoing message committed but not yet confirmed as sent.</summary>
[GenerateSerializer, Immutable, Alias("pending-message")]
public sealed record PendingMessage(
    [property: Id(0)] Guid MessageId,
    [property: Id(1)] Guid CausedBy,
    [property: Id(2)] string Stream,
    [property: Id(3)] string Type);
