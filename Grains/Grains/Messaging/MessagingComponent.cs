using System.Text.Json;
using ExactlyOnce.Grains.Messages;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using Orleans.Streams;

namespace ExactlyOnce.Grains.Messaging;

/// <summary>
/// Connects a grain to the core: subscribes it to its stream, validates and routes each delivery
/// through the <see cref="MessageProcessor{TData}"/>, flushes the outbox on activation and on the
/// reminder, and deactivates a fenced activation. A component grain only forwards its lifecycle
/// calls here.
/// </summary>
public sealed class MessagingComponent<TData, TMessage> : IAsyncObserver<object>
    where TData : class, new()
    where TMessage : class, IMessage
{
    private readonly Grain _grain;
    private readonly IComponentLogic<TData, TMessage> _logic;
    private readonly MessagingServices _services;
    private readonly ILogger _logger;
    private readonly string _key;
    private readonly IStreamProvider _streams;

    public MessagingComponent(Grain grain, IPersistentState<ComponentState<TData>> state, IComponentLogic<TData, TMessage> logic, MessagingServices services)
    {
        _grain = grain;
        _logic = logic;
        _services = services;
        _key = grain.GetPrimaryKeyString();
        _logger = services.Loggers.CreateLogger($"ExactlyOnce.{logic.Component}");
        _streams = grain.GetStreamProvider(OrleansNames.StreamProvider);
        Processor = new MessageProcessor<TData>(
            logic.Component,
            new PersistentStateStore<ComponentState<TData>>(state),
            new StreamPublisher(_streams, services.SentLog, logic.Component),
            services.Faults,
            new GrainOutboxReminder(grain, services.Options.OutboxFlushPeriod),
            services.Clock,
            services.Options,
            logic.Clone,
            _logger);
    }

    /// <summary>The protocol engine of this activation.</summary>
    public MessageProcessor<TData> Processor { get; }

    /// <summary>Call from OnActivateAsync: subscribe, then send whatever a crash left in the outbox.</summary>
    public async Task ActivateAsync()
    {
        var stream = _streams.GetStream<object>(StreamId.Create(_logic.StreamNamespace, _key));
        await stream.SubscribeAsync(this);
        await Processor.FlushOutboxAsync();
    }

    /// <summary>Call from ReceiveReminder.</summary>
    public Task OnReminderAsync(string reminderName) =>
        reminderName == GrainOutboxReminder.Name ? Processor.FlushOutboxAsync() : Task.CompletedTask;

    /// <summary>Call from OnDeactivateAsync: persist a deferred outbox clear (best effort; a re-send is harmless).</summary>
    public async Task DeactivateAsync()
    {
        try
        {
            await Processor.SaveDeferredClearAsync();
        }
        catch (Exception ex)
        {
            // Deliberately swallowed: the entries stay in storage and are re-sent and deduplicated later.
            _logger.LogWarning(ex, "{Component} {Key}: could not persist the outbox clear on deactivation", _logic.Component, _key);
        }
    }

    public async Task OnNextAsync(object item, StreamSequenceToken? token = null)
    {
        if (item is not TMessage message)
        {
            await RejectAsync(item, (item as IMessage)?.MessageId, $"unknown message type {item?.GetType().FullName ?? "null"} on stream {_logic.StreamNamespace}");
            return;
        }

        var reason = MessageChecks.Common(message, _key) ?? _logic.Validate(message, _key);
        if (reason is not null)
        {
            await RejectAsync(message, message.MessageId, reason);
            return;
        }

        try
        {
            await Processor.ProcessAsync(message, _logic.Handle);
        }
        catch (FencedActivationException)
        {
            _grain.GrainContext.Deactivate(new DeactivationReason(DeactivationReasonCode.ApplicationRequested, "fenced by the storage ETag"));
            throw;
        }
        catch (Exception ex)
        {
            MessagingLog.Failed(_logger, _logic.Component, message.MessageId, ex.Message);
            throw;
        }
    }

    public Task OnCompletedAsync() => Task.CompletedTask;

    public Task OnErrorAsync(Exception ex) => Task.CompletedTask;

    private async Task RejectAsync(object? item, Guid? messageId, string reason)
    {
        MessagingLog.Rejected(_logger, _logic.Component, messageId, reason);
        await _services.DeadLetters.RejectAsync(new RejectedMessage(
            _logic.Component, _logic.StreamNamespace, _key, messageId, item?.GetType().Name ?? "null", reason, ToJson(item)));
    }

    private static string ToJson(object? item)
    {
        try
        {
            return item is null ? "null" : JsonSerializer.Serialize(item, item.GetType());
        }
        catch (Exception ex) when (ex is NotSupportedException or JsonException or InvalidOperationException)
        {
            return JsonSerializer.Serialize(item!.ToString());
        }
    }
}
