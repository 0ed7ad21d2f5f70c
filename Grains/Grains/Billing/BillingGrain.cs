using ExactlyOnce.Grains.Messages;
using ExactlyOnce.Messaging;
using Orleans.Runtime;

namespace ExactlyOnce.Grains.Billing;

/// <summary>Component B. Business logic in <see cref="BillingLogic"/>; the protocol in the messaging core.</summary>
[ImplicitStreamSubscription(StreamNamespaces.Billing)]
public sealed class BillingGrain(
    [PersistentState("billing", OrleansNames.GrainStorage)] IPersistentState<ComponentState<BillData>> state,
    MessagingServices services) : Grain, IBillingGrain, IRemindable
{
    private MessagingComponent<BillData, BillingEvent> _messaging = null!;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _messaging = new MessagingComponent<BillData, BillingEvent>(this, state, BillingLogic.Instance, services);
        await _messaging.ActivateAsync();
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => _messaging.DeactivateAsync();

    public Task ReceiveReminder(string reminderName, TickStatus status) => _messaging.OnReminderAsync(reminderName);

    public Task<ProtocolView> GetProtocol() => Task.FromResult(_messaging.DescribeProtocol());

    public Task<PendingWork> GetPendingWork() => Task.FromResult(_messaging.DescribePendingWork());

    public Task<long> MarkOf(string producerId) => Task.FromResult(_messaging.MarkOf(producerId));

    public Task RetireRunsThrough(long watermark) => _messaging.RetireRunsAsync(watermark);

    public Task<BillView> GetBill()
    {
        var s = _messaging.State;
        return Task.FromResult(new BillView(this.GetPrimaryKeyString(), [.. s.Data.Items], s.Data.Total, s.Inbox.Count, PendingMessages.From(s.Outbox)));
    }
}
