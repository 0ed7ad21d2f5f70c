using Orleans.Runtime;

namespace ExactlyOnce.Messaging;

/// <summary>
/// The base of an exactly-once component grain: it subscribes the grain to its stream on
/// activation, runs every delivery through the core with <paramref name="logic"/>, runs recovery on
/// activation and on the reminder, and answers the <see cref="IExactlyOnceReceiver"/> calls. A
/// component declares its stream subscription, its state and its logic, and adds only its own
/// read methods:
/// <code>
/// [ImplicitStreamSubscription("loyalty")]
/// public sealed class LoyaltyGrain(
///     [PersistentState("loyalty", "postgres")] IPersistentState&lt;ComponentState&lt;Points&gt;&gt; state,
///     MessagingServices services)
///     : ExactlyOnceGrain&lt;Points, PurchaseMade&gt;(state, LoyaltyLogic.Instance, services), ILoyaltyGrain
/// {
///     public Task&lt;int&gt; GetPoints() =&gt; Task.FromResult(State.Data.Total);
/// }
/// </code>
/// A grain that overrides <see cref="OnActivateAsync"/> or <see cref="OnDeactivateAsync"/> calls the base.
/// </summary>
/// <typeparam name="TData">The component's business data, stored with the protocol state.</typeparam>
/// <typeparam name="TMessage">The messages its stream carries.</typeparam>
public abstract class ExactlyOnceGrain<TData, TMessage>(
    IPersistentState<ComponentState<TData>> state,
    IComponentLogic<TData, TMessage> logic,
    MessagingServices services) : Grain, IRemindable
    where TData : class, new()
    where TMessage : class, IMessage
{
    private MessagingComponent<TData, TMessage>? _messaging;

    /// <summary>The component's connection to the core; available from activation on.</summary>
    private protected MessagingComponent<TData, TMessage> Messaging =>
        _messaging ?? throw new InvalidOperationException("the component is not activated yet");

    /// <summary>The component's state as committed: its data, its outbox, what it remembers of each producer.</summary>
    protected ComponentState<TData> State => Messaging.State;

    /// <inheritdoc/>
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _messaging = new MessagingComponent<TData, TMessage>(this, state, logic, services);
        await _messaging.ActivateAsync();
    }

    /// <inheritdoc/>
    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken) =>
        _messaging?.DeactivateAsync() ?? Task.CompletedTask;

    /// <inheritdoc/>
    public Task ReceiveReminder(string reminderName, TickStatus status) => Messaging.OnReminderAsync(reminderName);

    /// <inheritdoc cref="IExactlyOnceReceiver.GetProtocol"/>
    public Task<ProtocolView> GetProtocol() => Task.FromResult(Messaging.DescribeProtocol());

    /// <inheritdoc cref="IExactlyOnceReceiver.GetPendingWork"/>
    public Task<PendingWork> GetPendingWork() => Task.FromResult(Messaging.DescribePendingWork());

    /// <inheritdoc cref="IExactlyOnceReceiver.MarkOf"/>
    public Task<long> MarkOf(string producerId) => Task.FromResult(Messaging.MarkOf(producerId));

    /// <inheritdoc cref="IExactlyOnceReceiver.RetireRunsThrough"/>
    public Task RetireRunsThrough(long watermark) => Messaging.RetireRunsAsync(watermark);
}
