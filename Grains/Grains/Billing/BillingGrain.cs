using ExactlyOnce.Grains.Messages;
using ExactlyOnce.Messaging;
using Orleans.Runtime;

namespace ExactlyOnce.Grains.Billing;

/// <summary>Component B. Business logic in <see cref="BillingLogic"/>; the protocol in the messaging core.</summary>
[ImplicitStreamSubscription(StreamNamespaces.Billing)]
public sealed class BillingGrain(
    [PersistentState("billing", OrleansNames.GrainStorage)] IPersistentState<ComponentState<BillData>> state,
    MessagingServices services) : ExactlyOnceGrain<BillData, BillingEvent>(state, BillingLogic.Instance, services), IBillingGrain
{
    /// <summary>The same storage the base writes through; read here only for whether a record exists.</summary>
    private readonly IPersistentState<ComponentState<BillData>> _stored = state;

    public Task<BillView> GetBill()
    {
        var s = State;
        return Task.FromResult(new BillView(this.GetPrimaryKeyString(), [.. s.Data.Items], s.Data.Total, s.Inbox.Count, PendingMessages.From(s.Outbox), _stored.RecordExists));
    }
}
