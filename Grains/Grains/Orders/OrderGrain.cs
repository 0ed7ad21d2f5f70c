using ExactlyOnce.Grains.Messages;
using ExactlyOnce.Messaging;
using Orleans.Runtime;

namespace ExactlyOnce.Grains.Orders;

/// <summary>Component A. Business logic in <see cref="OrderLogic"/>; the protocol in the messaging core.</summary>
[ImplicitStreamSubscription(StreamNamespaces.Orders)]
public sealed class OrderGrain(
    [PersistentState("order", OrleansNames.GrainStorage)] IPersistentState<ComponentState<OrderData>> state,
    MessagingServices services) : Grain, IOrderGrain, IRemindable
{
    private MessagingComponent<OrderData, OrderCommand> _messaging = null!;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _messaging = new MessagingComponent<OrderData, OrderCommand>(this, state, OrderLogic.Instance, services);
        await _messaging.ActivateAsync();
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) => _messaging.DeactivateAsync();

    public Task ReceiveReminder(string reminderName, TickStatus status) => _messaging.OnReminderAsync(reminderName);

    public Task<ProtocolView> GetProtocol() => Task.FromResult(_messaging.DescribeProtocol());

    public Task<PendingWork> GetPendingWork() => Task.FromResult(_messaging.DescribePendingWork());

    public Task<long> MarkOf(string producerId) => Task.FromResult(_messaging.MarkOf(producerId));

    public Task RetireRunsThrough(long watermark) => _messaging.RetireRunsAsync(watermark);

    public Task<OrderView> GetOrder()
    {
        var s = _messaging.State;
        return Task.FromResult(new OrderView(this.GetPrimaryKeyString(), [.. s.Data.Lines], s.Inbox.Count, PendingMessages.From(s.Outbox)));
    }
}
