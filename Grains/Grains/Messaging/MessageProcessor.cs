using ExactlyOnce.Grains.Faults;
using ExactlyOnce.Grains.Messages;
using Microsoft.Extensions.Logging;
using Orleans.Storage;

namespace ExactlyOnce.Grains.Messaging;

/// <summary>What processing one delivery did.</summary>
public enum ProcessOutcome
{
    /// <summary>The handler ran and its effects were committed.</summary>
    Applied,

    /// <summary>Exactly-once: the id was processed before; pending outgoing copies were re-sent.</summary>
    Duplicate,

    /// <summary>At-most-once: the id was seen before, so it is dropped without being re-sent.</summary>
    Dropped,

    /// <summary>At-most-once: a failure was swallowed and the message acknowledged anyway.</summary>
    Lost,
}

/// <summary>
/// The exactly-once protocol of one component, written once (design.md §4), plus the two weaker
/// modes it is compared with. It owns the order of the steps; the component's handler only turns
/// (state, message) into (new state, outgoing messages), without side effects.
/// </summary>
public sealed class MessageProcessor<TData> where TData : class, new()
{
    private readonly string _component;
    private readonly IStateStore<ComponentState<TData>> _store;
    private readonly IMessagePublisher _publisher;
    private readonly IFaultInjector _faults;
    private readonly IOutboxReminder _reminder;
    private readonly TimeProvider _clock;
    private readonly MessagingOptions _options;
    private readonly Func<TData, TData> _clone;
    private readonly ILogger _logger;
    private HashSet<Guid> _inboxIndex;

    public MessageProcessor(
        string component,
        IStateStore<ComponentState<TData>> store,
        IMessagePublisher publisher,
        IFaultInjector faults,
        IOutboxReminder reminder,
        TimeProvider clock,
        MessagingOptions options,
        Func<TData, TData> clone,
        ILogger logger)
    {
        _component = component;
        _store = store;
        _publisher = publisher;
        _faults = faults;
        _reminder = reminder;
        _clock = clock;
        _options = options;
        _clone = clone;
        _logger = logger;
        _inboxIndex = store.State.Inbox.Select(e => e.MessageId).ToHashSet();
    }

    /// <summary>The state as committed (plus outbox entries already dispatched but not yet cleared in storage).</summary>
    public ComponentState<TData> State => _store.State;

    /// <summary>True when dispatched outbox entries were removed in memory but not yet in storage (the deferred clear of step 6).</summary>
    public bool HasUnsavedClear { get; private set; }

    /// <summary>Processes one delivery according to its delivery mode. Returning means: acknowledge it.</summary>
    public Task<ProcessOutcome> ProcessAsync<TMessage>(TMessage message, Func<TData, TMessage, OutgoingMessages, TData> handle)
        where TMessage : IMessage => message.Mode switch
        {
            DeliveryMode.ExactlyOnce => ExactlyOnceAsync(message, handle),
            DeliveryMode.AtLeastOnce => AtLeastOnceAsync(message, handle),
            DeliveryMode.AtMostOnce => AtMostOnceAsync(message, handle),
            _ => throw new ArgumentOutOfRangeException(nameof(message), message.Mode, "unknown delivery mode"),
        };

    /// <summary>
    /// Sends every committed outbox entry, then persists the cleared outbox and drops the flush
    /// reminder when nothing is pending. Runs on activation and on the reminder tick.
    /// </summary>
    public async Task FlushOutboxAsync()
    {
        var state = _store.State;
        if (state.Outbox.Count > 0)
        {
            MessagingLog.FlushingOutbox(_logger, _component, state.Outbox.Count);
            await DispatchAsync(state.Outbox.ToList());
        }

        var dropReminder = state.Outbox.Count == 0 && state.FlushReminderRegistered;
        if (dropReminder)
        {
            await _reminder.UnregisterAsync();
            state.FlushReminderRegistered = false;
        }

        if (HasUnsavedClear || dropReminder)
        {
            await WriteGuardedAsync(Guid.Empty, restore: null);
            HasUnsavedClear = false;
        }
    }

    /// <summary>Writes a deferred outbox clear, if any (on deactivation).</summary>
    public async Task SaveDeferredClearAsync()
    {
        if (HasUnsavedClear)
        {
            await WriteGuardedAsync(Guid.Empty, restore: null);
            HasUnsavedClear = false;
        }
    }

    private async Task<ProcessOutcome> ExactlyOnceAsync<TMessage>(TMessage message, Func<TData, TMessage, OutgoingMessages, TData> handle)
        where TMessage : IMessage
    {
        // 2. Dedup: never run business logic twice; re-send the stored copies still pending.
        if (_inboxIndex.Contains(message.MessageId))
        {
            var pending = _store.State.Outbox.Where(e => e.CausedBy == message.MessageId).ToList();
            MessagingLog.Duplicate(_logger, _component, message.MessageId, pending.Count);
            await DispatchAsync(pending);
            _faults.At(FaultPoints.BeforeAck, _component, message.MessageId);
            return ProcessOutcome.Duplicate;
        }

        // 3. Handle: a pure function of the committed state and the message.
        var outgoing = new OutgoingMessages(_component, message);
        var newData = handle(_clone(_store.State.Data), message, outgoing);
        _faults.At(FaultPoints.BeforeCommit, _component, message.MessageId);

        // 4. Commit data + inbox entry + outbox in one write. Nothing is sent before it succeeds,
        // or a failed commit would leave a ghost message downstream.
        await CommitAsync(message.MessageId, newData, recordInInbox: true, outgoing.Entries);
        _faults.At(FaultPoints.AfterCommit, _component, message.MessageId);

        // 5. Dispatch the stored copies. 6. The clear is deferred to the next write: a re-send after
        // a crash is deduplicated downstream.
        await DispatchAsync(outgoing.Entries);
        _faults.At(FaultPoints.AfterDispatch, _component, message.MessageId);

        // 7. Returning acknowledges the incoming message.
        _faults.At(FaultPoints.BeforeAck, _component, message.MessageId);
        MessagingLog.Applied(_logger, _component, message.MessageId, outgoing.Entries.Count);
        return ProcessOutcome.Applied;
    }

    private Task<ProcessOutcome> AtLeastOnceAsync<TMessage>(TMessage message, Func<TData, TMessage, OutgoingMessages, TData> handle)
        where TMessage : IMessage =>
        // No dedup and no outbox: every redelivery runs the handler again and sends again.
        HandleCommitAndPublishAsync(message, handle, recordInInbox: false);

    private async Task<ProcessOutcome> AtMostOnceAsync<TMessage>(TMessage message, Func<TData, TMessage, OutgoingMessages, TData> handle)
        where TMessage : IMessage
    {
        // The id is committed with the effect, so a redelivery after a crash is dropped, never redone.
        if (_inboxIndex.Contains(message.MessageId))
        {
            MessagingLog.Dropped(_logger, _component, message.MessageId);
            return ProcessOutcome.Dropped;
        }

        try
        {
            return await HandleCommitAndPublishAsync(message, handle, recordInInbox: true);
        }
        catch (Exception ex) when (ex is not FencedActivationException)
        {
            // The point of this mode: acknowledge whatever happens. What was not sent is lost.
            MessagingLog.Lost(_logger, _component, message.MessageId, ex.Message);
            return ProcessOutcome.Lost;
        }
    }

    /// <summary>The weaker modes: commit the data (and maybe the id), then publish from memory, with no outbox.</summary>
    private async Task<ProcessOutcome> HandleCommitAndPublishAsync<TMessage>(
        TMessage message, Func<TData, TMessage, OutgoingMessages, TData> handle, bool recordInInbox)
        where TMessage : IMessage
    {
        var outgoing = new OutgoingMessages(_component, message);
        var newData = handle(_clone(_store.State.Data), message, outgoing);
        _faults.At(FaultPoints.BeforeCommit, _component, message.MessageId);
        await CommitAsync(message.MessageId, newData, recordInInbox, []);
        _faults.At(FaultPoints.AfterCommit, _component, message.MessageId);
        foreach (var entry in outgoing.Entries)
        {
            await _publisher.PublishAsync(entry.StreamNamespace, entry.StreamKey, entry.Payload);
        }

        _faults.At(FaultPoints.AfterDispatch, _component, message.MessageId);
        _faults.At(FaultPoints.BeforeAck, _component, message.MessageId);
        MessagingLog.Applied(_logger, _component, message.MessageId, outgoing.Entries.Count);
        return ProcessOutcome.Applied;
    }

    private async Task CommitAsync(Guid messageId, TData newData, bool recordInInbox, IReadOnlyList<OutboxEntry> outbox)
    {
        var state = _store.State;
        var previous = new ComponentState<TData>
        {
            Data = state.Data,
            Inbox = [.. state.Inbox],
            Outbox = [.. state.Outbox],
            FlushReminderRegistered = state.FlushReminderRegistered,
        };

        var pruned = 0;
        if (recordInInbox)
        {
            var now = _clock.GetUtcNow().UtcDateTime;
            pruned = InboxPolicy.Prune(state.Inbox, e => e.ProcessedAtUtc, now, _options.InboxRetention);
            if (pruned > 0)
            {
                MessagingLog.InboxPruned(_logger, _component, pruned, state.Inbox.Count);
            }

            if (state.Inbox.Count >= _options.MaxInboxEntries)
            {
                Restore(previous);
                throw new InboxFullException(_component, state.Inbox.Count);
            }

            state.Inbox.Add(new InboxEntry(messageId, now));
        }

        state.Data = newData;
        state.Outbox.AddRange(outbox);
        if (state.Outbox.Count > 0 && !state.FlushReminderRegistered)
        {
            // Registered before the commit, so a committed outbox always has a timer that flushes
            // it, even if the incoming message is never delivered again.
            try
            {
                await _reminder.RegisterAsync();
            }
            catch
            {
                Restore(previous);
                throw;
            }

            state.FlushReminderRegistered = true;
        }

        await WriteGuardedAsync(messageId, previous);
        HasUnsavedClear = false;
        // Keep the index in step without rebuilding it from the whole inbox on every message.
        for (var i = 0; i < pruned; i++)
        {
            _inboxIndex.Remove(previous.Inbox[i].MessageId);
        }

        if (recordInInbox)
        {
            _inboxIndex.Add(messageId);
        }
    }

    private async Task WriteGuardedAsync(Guid messageId, ComponentState<TData>? restore)
    {
        try
        {
            await _store.WriteAsync();
        }
        catch (InconsistentStateException ex)
        {
            // Another activation wrote this state: this one is stale. Do not acknowledge; the
            // caller deactivates it and the message is processed again against fresh state.
            MessagingLog.Fenced(_logger, _component, messageId);
            if (restore is not null)
            {
                Restore(restore);
            }

            throw new FencedActivationException(_component, messageId, ex);
        }
        catch when (restore is not null)
        {
            Restore(restore);
            throw;
        }
    }

    private void Restore(ComponentState<TData> previous)
    {
        var state = _store.State;
        state.Data = previous.Data;
        state.Inbox = previous.Inbox;
        state.Outbox = previous.Outbox;
        state.FlushReminderRegistered = previous.FlushReminderRegistered;
        _inboxIndex = state.Inbox.Select(e => e.MessageId).ToHashSet();
    }

    private async Task DispatchAsync(IReadOnlyList<OutboxEntry> entries)
    {
        foreach (var entry in entries)
        {
            await _publisher.PublishAsync(entry.StreamNamespace, entry.StreamKey, entry.Payload);
            // Removed in memory only once the stream confirmed the insert.
            _store.State.Outbox.RemoveAll(e => e.MessageId == entry.MessageId);
            HasUnsavedClear = true;
            MessagingLog.Dispatched(_logger, _component, entry.MessageId, entry.CausedBy);
        }
    }
}
