using ExactlyOnce.Grains.Messages;
using ExactlyOnce.Messaging;
using Orleans.Runtime;

namespace ExactlyOnce.Grains.Orders;

/// <summary>Component A. Business logic in <see cref="OrderLogic"/>; the protocol in the messaging core.</summary>
[ImplicitStreamSubscription(StreamNamespaces.Orders)]
public sealed class OrderGrain(
    [PersistentState("order", OrleansNames.GrainStorage)] IPersistentState<ComponentState<OrderData>> state,
    MessagingServices services) : ExactlyOnceGrain<OrderData, OrderCommand>(state, OrderLogic.Instance, services), IOrderGrain
{
    /// <summary>The same storage the base writes through; read here only for whether a record exists.</summary>
    private readonly IPersistentState<ComponentState<OrderData>> _stored = state;

    public Task<OrderView> GetOrder()
    {
        var s = State;
        return Task.FromResult(new OrderView(this.GetPrimaryKeyString(), [.. s.Data.Lines], s.Inbox.Count, PendingMessages.From(s.Outbox), _stored.RecordExists));
    }
}
