using ExactlyOnce.Diagnostics;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using Orleans.Storage;
using Orleans.Streams;

namespace ExactlyOnce.Messaging;

/// <summary>
/// Connects a grain to the core: subscribes it to its stream, routes each delivery through the
/// <see cref="MessageProcessor{TData}"/>, runs recovery on activation and on the reminder, and
/// deactivates an activation whose state write failed or was fenced. A component grain only
/// forwards its lifecycle calls here.
/// </summary>
internal sealed class MessagingComponent<TData, TMessage>
    where TData : class, new()
    where TMessage : class, IMessage
{
    private readonly Grain _grain;
    private readonly IComponentLogic<TData, TMessage> _logic;
    private readonly LogicHandler<TData, TMessage> _handler;
    private readonly ILogger _logger;
    private readonly string _key;
    private readonly IStreamProvider _streams;
    private readonly IGrainStorageSerializer _sizes;
    private readonly InputChannels _inputs;

    /// <summary>Connects the grain and its persistent state to the core; create it in OnActivateAsync, then call <see cref="ActivateAsync"/>.</summary>
    public MessagingComponent(Grain grain, IPersistentState<ComponentState<TData>> state, IComponentLogic<TData, TMessage> logic, MessagingServices services)
    {
        _grain = grain;
        _logic = logic;
        _key = StreamKeys.Of(grain);
        _logger = services.Loggers.CreateLogger($"ExactlyOnce.{logic.Component}");
        _streams = grain.GetStreamProvider(services.Options.StreamProvider);
        _sizes = services.StorageSerializer;
        _handler = new LogicHandler<TData, TMessage>(logic, _key, services.DeadLetters);
        _inputs = InputsOf(grain.GetType(), logic);
        Processor = new MessageProcessor<TData>(
            new ComponentIdentity(logic.Component, _key, logic.OutputStreams, _inputs),
            new PersistentStateStore<ComponentState<TData>>(state),
            _handler,
            logic.Clone,
            new ProcessorPorts(
                new StreamPublisher(_streams, services.SentLog, logic.Component),
                services.Faults,
                new GrainOutboxReminder(grain, services.Options.OutboxFlushPeriod),
                services.Incarnations,
                services.Parking,
                new GrainRetryTimer(grain, OnRetryTimerAsync),
                services.Clock,
                services.Options,
                _logger,
                services.Metrics));
    }

    /// <summary>The protocol part of the state as read model, with stored sizes measured by the storage's own serializer.</summary>
    public ProtocolView DescribeProtocol()
    {
        var state = Processor.State;
        return new ProtocolView(
            [.. state.Producers.Select(p => ViewOf(p.Key, p.Value))],
            state.Inbox.Count,
            _sizes.Serialize(state).ToMemory().Length,
            _sizes.Serialize(state.Data).ToMemory().Length,
            state.ProducerId,
            state.FlushReminderRegistered);
    }

    /// <summary>The outbox depth and the producers waiting for an earlier message (see <see cref="PendingWork"/>).</summary>
    public PendingWork DescribePendingWork()
    {
        var state = Processor.State;
        return new PendingWork(
            state.Outbox.Count,
            [.. state.Producers.Where(p => p.Value.HasWaiting).Select(p => ViewOf(p.Key, p.Value))]);
    }

    private static ProducerView ViewOf(string producerId, ProducerProgress progress) =>
        new(producerId, progress.Mark, progress.Held.Count, progress.ParkedHigh, progress.Held.Sum(h => h.Failures), progress.Held.FirstOrDefault(h => h.LastError is not null)?.LastError);

    /// <summary>The protocol engine of this activation.</summary>
    internal MessageProcessor<TData> Processor { get; }

    /// <summary>The component's state as committed: its data, its outbox, what it remembers of each producer.</summary>
    public ComponentState<TData> State => Processor.State;

    /// <summary>The highest sequence of <paramref name="producerId"/> applied here: 0 when unknown, <see cref="long.MaxValue"/> when the producer is retired here.</summary>
    public long MarkOf(string producerId) => Processor.MarkOf(producerId);

    /// <summary>Call from OnActivateAsync: subscribe, then send whatever a crash left in the outbox and apply held messages whose turn came.</summary>
    public async Task ActivateAsync()
    {
        foreach (var input in _inputs.Inputs)
        {
            await _streams.GetStream<object>(StreamId.Create(input, _key)).SubscribeAsync(new InputObserver(this, input));
        }

        await GuardAsync(Guid.Empty, () => Processor.FlushOutboxAsync());
    }

    /// <summary>Call from ReceiveReminder.</summary>
    public Task OnReminderAsync(string reminderName) =>
        reminderName == GrainOutboxReminder.Name ? GuardAsync(Guid.Empty, () => Processor.FlushOutboxAsync(reminderFired: true)) : Task.CompletedTask;

    /// <summary>A delayed retry is due: the same pass as the reminder's, without touching the reminder.</summary>
    private Task OnRetryTimerAsync() => GuardAsync(Guid.Empty, () => Processor.FlushOutboxAsync());

    /// <summary>Call from OnDeactivateAsync: persist a deferred outbox clear (best effort; a re-send is harmless).</summary>
    public async Task DeactivateAsync()
    {
        Processor.ReleaseMetrics();
        try
        {
            await Processor.SaveDeferredClearAsync();
        }
        catch (Exception ex)
        {
            // Deliberately swallowed: the entries stay in storage and are re-sent and deduplicated later.
            MessagingLog.DeactivationClearFailed(_logger, _logic.Component, _key, ex);
        }
    }

    /// <summary>Applies the run-retirement watermark (see <see cref="MessageProcessor{TData}.RetireRunsAsync"/>).</summary>
    public Task RetireRunsAsync(long watermark) => GuardAsync(Guid.Empty, () => Processor.RetireRunsAsync(watermark));

    /// <summary>One delivery from input stream <paramref name="input"/>.</summary>
    private async Task OnNextAsync(object item, string input)
    {
        if (item is not IMessage message)
        {
            var reason = $"unknown message type {item?.GetType().FullName ?? "null"} on stream {input}";
            MessagingLog.Rejected(_logger, _logic.Component, null, reason);
            await _handler.RejectAsync(item, input, null, reason);
            return;
        }

        var origin = MessagingTracing.FromRequestContext();
        using var span = MessagingTracing.StartProcessSpan(_logic.Component, input, message, origin);
        await GuardAsync(message.MessageId, async () =>
        {
            var outcome = await Processor.ProcessAsync(message, input, origin);
            span?.SetTag("exactlyonce.outcome", outcome.ToString());
        });
    }

    /// <summary>
    /// The component's input streams, checked once per activation: <see cref="IComponentLogic{TData, TMessage}.StreamNamespace"/>
    /// first, no repeats, and an implicit subscription on the grain class for each (without it the
    /// stream's messages would wait in their table for a grain that never hears of them).
    /// </summary>
    internal static InputChannels InputsOf(Type grainClass, IComponentLogic<TData, TMessage> logic)
    {
        var inputs = logic.InputStreams;
        string? problem = inputs.Count == 0 || inputs[0] != logic.StreamNamespace ? $"InputStreams must start with StreamNamespace '{logic.StreamNamespace}'"
            : inputs.FirstOrDefault(string.IsNullOrWhiteSpace) is not null ? "InputStreams holds an empty namespace"
            : inputs.GroupBy(i => i, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } repeated ? $"InputStreams names '{repeated.Key}' twice"
            : null;
        if (problem is null)
        {
            var subscriptions = grainClass.GetCustomAttributes(typeof(ImplicitStreamSubscriptionAttribute), inherit: true).Cast<ImplicitStreamSubscriptionAttribute>().ToList();
            var unsubscribed = inputs.FirstOrDefault(i => !subscriptions.Exists(s => s.Predicate?.IsMatch(i) == true));
            problem = unsubscribed is null ? null : $"input stream '{unsubscribed}' has no [ImplicitStreamSubscription(\"{unsubscribed}\")] on {grainClass.Name}";
        }

        return problem is null ? new InputChannels(inputs) : throw new InvalidOperationException($"component {logic.Component}: {problem}");
    }

    /// <summary>Receives one input stream's deliveries for the component, naming the stream.</summary>
    private sealed class InputObserver(MessagingComponent<TData, TMessage> component, string input) : IAsyncObserver<object>
    {
        public Task OnNextAsync(object item, StreamSequenceToken? token = null) => component.OnNextAsync(item, input);

        public Task OnCompletedAsync() => Task.CompletedTask;

        public Task OnErrorAsync(Exception ex) => Task.CompletedTask;
    }

    /// <summary>Runs a processor call; after a failed or fenced write the activation deactivates, whatever the call returned.</summary>
    private async Task GuardAsync(Guid messageId, Func<Task> call)
    {
        try
        {
            await call();
        }
        catch (Exception ex) when (ex is not StateWriteFailedException)
        {
            // Orleans logs what leaves here with its stack trace (the pulling agent, the reminder,
            // the timer, the activation) or the caller does: the exception is not logged twice.
            MessagingLog.Failed(_logger, _logic.Component, messageId, ex);
            throw;
        }
        finally
        {
            if (Processor.IsBroken)
            {
                _grain.GrainContext.Deactivate(new DeactivationReason(DeactivationReasonCode.ApplicationRequested, "a state write failed or was fenced"));
            }
        }
    }
}
