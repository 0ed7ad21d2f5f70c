using ExactlyOnce.Grains.Messages;
using ExactlyOnce.Messaging;
using ExactlyOnce.Grains.Orders;
using Orleans.Concurrency;

namespace ExactlyOnce.Grains.Billing;

/// <summary>Component B: the bill of one order (key = order id), fed by the <c>billing</c> stream.</summary>
public interface IBillingGrain : IExactlyOnceReceiver, IGrainWithStringKey
{
    /// <summary>The committed bill, its inbox size and pending outbox.</summary>
    [AlwaysInterleave]
    Task<BillView> GetBill();
}

/// <summary>
/// Read model of a bill. <see cref="Exists"/> is false for a bill whose state was never stored: it
/// never received an event.
/// </summary>
[GenerateSerializer, Immutable, Alias("bill-view")]
public sealed record BillView(
    [property: Id(0)] string OrderId,
    [property: Id(1)] IReadOnlyList<BillItem> Items,
    [property: Id(2)] decimal Total,
    [property: Id(3)] int InboxSize,
    [property: Id(4)] IReadOnlyList<PendingMessage> PendingOutbox,
    [property: Id(5)] bool Exists = true);

/// <summary>
/// One applied billing event. <see cref="SentAt"/> (the client's publish of the command) and
/// <see cref="AppliedAt"/> (this bill's handler) are set only for timed commands: the end-to-end
/// latency the bench reports.
/// </summary>
[GenerateSerializer, Immutable, Alias("bill-item")]
public sealed record BillItem(
    [property: Id(0)] Guid MessageId,
    [property: Id(1)] Filling Filling,
    [property: Id(2)] int LineCount,
    [property: Id(3)] decimal Price,
    [property: Id(4)] bool Removal,
    [property: Id(5)] DateTime? SentAt = null,
    [property: Id(6)] DateTime? AppliedAt = null);
