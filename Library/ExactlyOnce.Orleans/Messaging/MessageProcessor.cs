using ExactlyOnce.Diagnostics;
using ExactlyOnce.Faults;
using Microsoft.Extensions.Logging;
using Orleans.Storage;

namespace ExactlyOnce.Messaging;

/// <summary>What processing one delivery did.</summary>
public enum ProcessOutcome
{
    /// <summary>The handler ran and its effects were committed.</summary>
    Applied,

    /// <summary>Exactly-once: processed before (at or below the producer's mark, already held, or a known id); pending outgoing copies were re-sent.</summary>
    Duplicate,

    /// <summary>At-most-once: the id was seen before, so it is dropped without being re-sent.</summary>
    Dropped,

    /// <summary>At-most-once: a failure was swallowed and the message acknowledged anyway.</summary>
    Lost,

    /// <summary>Invalid: recorded in the dead letters; a sequenced one still took its turn, as a no-op.</summary>
    Rejected,

    /// <summary>Sequenced and early: committed to the hold-back buffer, applied once the messages before it are.</summary>
    Held,

    /// <summary>Sequenced and early with a full buffer: stored in the parking table, applied once the messages before it are.</summary>
    Parked,

    /// <summary>A producer's sequence arrived again with another message id: quarantined, neither applied nor dropped silently.</summary>
    Conflict,

    /// <summary>Its processing failed: it is kept in the state for a delayed retry (see <see cref="RecoverabilityPolicy"/>) and acknowledged.</summary>
    Delayed,

    /// <summary>Its handler kept failing: stored in the dead letters (after the policy's retries) and acknowledged.</summary>
    DeadLettered,
}

/// <summary>Who the component is: its name, grain key, the output streams whose messages it numbers, and its input streams.</summary>
internal sealed record ComponentIdentity(string Component, string Key, IReadOnlySet<string> SequencedOutputs, InputChannels Inputs)
{
    /// <summary>The receiver name used in the parking table.</summary>
    public string Receiver => $"{Component}/{Key}";
}

/// <summary>The services the processor talks to.</summary>
internal sealed record ProcessorPorts(
    IMessagePublisher Publisher,
    IFaultInjector Faults,
    IOutboxReminder Reminder,
    IProducerIncarnations Incarnations,
    IParkingLot Parking,
    IRetryTimer RetryTimer,
    TimeProvider Clock,
    MessagingOptions Options,
    ILogger Logger,
    MessagingMetrics Metrics);

/// <summary>
/// The exactly-once protocol of one component, written once (design.md §4), plus the two weaker
/// modes it is compared with. It owns the order of the steps; the component's handler only turns
/// (state, message) into (new state, outgoing messages), without side effects.
/// <para>
/// Any failed state write leaves this instance unusable (<see cref="IsBroken"/>): memory may hold
/// changes storage does not, so the activation must deactivate and the next one reads storage.
/// Nothing is restored field by field.
/// </para>
/// </summary>
internal sealed partial class MessageProcessor<TData> where TData : class, new()
{
    private readonly ComponentIdentity _identity;
    private readonly string _component;
    private readonly IStateStore<ComponentState<TData>> _store;
    private readonly IMessageHandler<TData> _handler;
    private readonly ProcessorPorts _ports;
    private readonly Func<TData, TData> _clone;
    private readonly ILogger _logger;
    private readonly HashSet<Guid> _inboxIndex;
    private readonly RecoverabilityPolicy _policy;
    private DateTime _lastAppliedUtc = DateTime.MinValue;
    private string _arrival;
    private readonly MessagingMetrics.Depths _depths;
    private long _writes;

    public MessageProcessor(ComponentIdentity identity, IStateStore<ComponentState<TData>> store, IMessageHandler<TData> handler, Func<TData, TData> clone, ProcessorPorts ports)
    {
        _identity = identity;
        _component = identity.Component;
        _store = store;
        _handler = handler;
        _clone = clone;
        _ports = ports;
        _logger = ports.Logger;
        _inboxIndex = store.State.Inbox.Select(e => e.MessageId).ToHashSet();
        _policy = new RecoverabilityPolicy(ports.Options.Recoverability);
        _arrival = identity.Inputs.Primary;
        _depths = new MessagingMetrics.Depths(ports.Metrics, identity.Component);
    }

    private DateTime Now => _ports.Clock.GetUtcNow().UtcDateTime;

    /// <summary>The state as committed (plus outbox entries already dispatched but not yet cleared in storage).</summary>
    public ComponentState<TData> State => _store.State;

    /// <summary>True when dispatched outbox entries were removed in memory but not yet in storage (the deferred clear of step 6).</summary>
    public bool HasUnsavedClear { get; private set; }

    /// <summary>True after a failed state write: the activation must deactivate.</summary>
    public bool IsBroken { get; private set; }

    private IFaultInjector Faults => _ports.Faults;

    /// <summary>
    /// Processes one delivery according to its delivery mode. Returning means: acknowledge it.
    /// <paramref name="input"/>: the stream namespace it arrived on (default: the primary input);
    /// a sequenced message is renamed to its producer's channel on that input first.
    /// <paramref name="origin"/>: its trace and send time, kept with it if it has to wait.
    /// </summary>
    public async Task<ProcessOutcome> ProcessAsync(IMessage message, string? input = null, MessageOrigin origin = default)
    {
        ThrowIfBroken(message.MessageId);
        _arrival = input ?? _identity.Inputs.Primary;
        var outcome = message.Mode == DeliveryMode.ExactlyOnce && message.ProducerId is not null
            ? await SequencedAsync(HeldMessage.Waiting(_identity.Inputs.Rename(message, _arrival), origin))
            : await ProcessUnsequencedAsync(message);
        _ports.Metrics.Received(_component, message.Mode, outcome);
        if (outcome == ProcessOutcome.Applied)
        {
            RecordLatency(origin);
        }

        return outcome;
    }

    /// <summary>The latency of a message applied now, from its commit or send (when known).</summary>
    private void RecordLatency(MessageOrigin origin)
    {
        if (origin.SentUtc is { } sent)
        {
            _ports.Metrics.Latency(_component, Now - sent);
        }
    }

    /// <summary>
    /// The input stream a message belongs to: a sequenced one's channel says it; an unsequenced
    /// one is never kept, so it is the one being processed, which arrived on <see cref="_arrival"/>.
    /// </summary>
    private string InputOf(IMessage message) =>
        message.Mode == DeliveryMode.ExactlyOnce && message.ProducerId is { } channel ? _identity.Inputs.InputOf(channel) : _arrival;

    /// <summary>
    /// Recovery, on activation and on the reminder tick: sends every committed outbox entry in
    /// order, applies held messages whose turn has come, and drops the reminder once nothing is
    /// left (<paramref name="reminderFired"/>: called by the reminder, so it exists even if the
    /// stored flag was never written).
    /// </summary>
    public async Task FlushOutboxAsync(bool reminderFired = false)
    {
        ThrowIfBroken(Guid.Empty);
        var state = _store.State;
        if (state.Outbox.Count > 0)
        {
            MessagingLog.FlushingOutbox(_logger, _component, state.Outbox.Count);
            await DispatchPendingAsync();
        }

        await ReleaseReadyAsync();
        if (HasUnsavedClear)
        {
            await WriteAsync(Guid.Empty);
            HasUnsavedClear = false;
        }

        // Dropped only after the write that emptied the outbox: storage never holds pending work
        // without a timer that will come back for it.
        if ((state.FlushReminderRegistered || reminderFired) && !HasRecoveryWork())
        {
            await _ports.Reminder.UnregisterAsync();
            state.FlushReminderRegistered = false;
        }
    }

    /// <summary>Writes a deferred outbox clear, if any (on deactivation).</summary>
    public async Task SaveDeferredClearAsync()
    {
        if (HasUnsavedClear && !IsBroken)
        {
            await WriteAsync(Guid.Empty);
            HasUnsavedClear = false;
        }
    }

    private async Task<ProcessOutcome> ProcessUnsequencedAsync(IMessage message)
    {
        if (Validate(message) is { } reason)
        {
            MessagingLog.Rejected(_logger, _component, message.MessageId, reason);
            await _handler.RejectAsync(message, InputOf(message), reason);
            return ProcessOutcome.Rejected;
        }

        return message.Mode switch
        {
            DeliveryMode.ExactlyOnce => await UnsequencedWithPolicyAsync(message, () => UnsequencedExactlyOnceAsync(message)),
            DeliveryMode.AtLeastOnce => await UnsequencedWithPolicyAsync(message, () => HandleCommitAndPublishAsync(message, recordInInbox: false)),
            DeliveryMode.AtMostOnce => await AtMostOnceAsync(message),
            _ => throw new ArgumentOutOfRangeException(nameof(message), message.Mode, "unknown delivery mode"),
        };
    }

    /// <summary>
    /// The recoverability policy for messages without a producer sequence. They have no place in
    /// the state to wait in, so: immediate retries, then a transient failure goes back to the
    /// stream (which redelivers it with back-off and never dead-letters it) and a handler failure
    /// goes to the dead letters. A failure after the commit always goes back to the stream: the
    /// redelivery is a duplicate (exactly-once) or an accepted repeat (at-least-once).
    /// </summary>
    private async Task<ProcessOutcome> UnsequencedWithPolicyAsync(IMessage message, Func<Task<ProcessOutcome>> attempt)
    {
        var failures = 0;
        var first = Now;
        while (true)
        {
            var writesBefore = _writes;
            try
            {
                return await attempt();
            }
            catch (Exception ex) when (!IsBroken && !RecoverabilityPolicy.IsFatal(ex) && _writes == writesBefore)
            {
                var decision = _policy.Decide(new MessageFailure(ex, ++failures, Now - first, false));
                // A transient failure goes back to the stream: Orleans logs the exception on its way up.
                var goesUp = decision.Action == RetryAction.RetryLater && decision.Kind == FailureKind.Transient;
                MessagingLog.AttemptFailed(_logger, _component, message.MessageId, "-", 0, failures, decision.Action, decision.Kind, decision.Delay, goesUp ? null : ex);
                switch (decision.Action)
                {
                    case RetryAction.RetryNow:
                        _ports.Metrics.Retried(_component, decision.Action, decision.Kind);
                        continue;
                    case RetryAction.RetryLater when decision.Kind == FailureKind.Transient:
                        _ports.Metrics.Retried(_component, decision.Action, decision.Kind);
                        throw;
                    case RetryAction.Discard:
                        await _handler.RejectAsync(message, InputOf(message), decision.Reason);
                        _ports.Metrics.Discarded(_component);
                        return ProcessOutcome.Rejected;
                    default:
                        await _handler.RejectAsync(message, InputOf(message), $"handler failed, dead-lettered: {decision.Reason}");
                        _ports.Metrics.DeadLettered(_component);
                        return ProcessOutcome.DeadLettered;
                }
            }
        }
    }

    /// <summary>The fallback for messages without a producer sequence: dedup on the time-windowed id set.</summary>
    private async Task<ProcessOutcome> UnsequencedExactlyOnceAsync(IMessage message)
    {
        // 2. Dedup: never run business logic twice; re-send the stored copies still pending.
        if (_inboxIndex.Contains(message.MessageId))
        {
            return await DuplicateAsync(message);
        }

        // 3. Handle: a pure function of the committed state and the message.
        var outgoing = new OutgoingMessages(_component, message);
        var newData = Handle(message, outgoing);
        Faults.At(FaultPoints.BeforeCommit, _component, message.MessageId);

        // Expired ids go before the bound is checked (dropping them in memory only anticipates the
        // next write, which drops them from storage too).
        var state = _store.State;
        var now = _ports.Clock.GetUtcNow().UtcDateTime;
        PruneInbox(now);
        if (state.Inbox.Count >= _ports.Options.MaxInboxEntries)
        {
            throw new InboxFullException(_component, state.Inbox.Count);
        }

        // 4. Commit data + inbox entry + outbox in one write. Nothing is sent before it succeeds,
        // or a failed commit would leave a ghost message downstream.
        await PrepareReminderAsync(outgoing.Entries.Count);
        var entries = await CommitAsync(message.MessageId, async () =>
        {
            var sequenced = await SequenceOutgoingAsync(outgoing.Entries);
            AddToInbox(message.MessageId, now);
            CommitInMemory(newData, sequenced);
            return sequenced;
        });
        Faults.At(FaultPoints.AfterCommit, _component, message.MessageId);

        // 5. Dispatch the stored copies, in order. 6. The clear is deferred to the next write: a
        // re-send after a crash is deduplicated downstream.
        await DispatchPendingAsync();
        Faults.At(FaultPoints.AfterDispatch, _component, message.MessageId);

        // 7. Returning acknowledges the incoming message.
        Faults.At(FaultPoints.BeforeAck, _component, message.MessageId);
        MessagingLog.Applied(_logger, _component, message.MessageId, entries.Count);
        _ports.Metrics.Applied(_component, message.Mode);
        _lastAppliedUtc = Now;
        return ProcessOutcome.Applied;
    }

    /// <summary>A message processed before: the handler does not run; the pending stored copies go out again, in order.</summary>
    private async Task<ProcessOutcome> DuplicateAsync(IMessage message)
    {
        MessagingLog.Duplicate(_logger, _component, message.MessageId, _store.State.Outbox.Count);
        await DispatchPendingAsync();
        await ReleaseReadyAsync();
        Faults.At(FaultPoints.BeforeAck, _component, message.MessageId);
        return ProcessOutcome.Duplicate;
    }

    private async Task<ProcessOutcome> AtMostOnceAsync(IMessage message)
    {
        // The id is committed with the effect, so a redelivery after a crash is dropped, never redone.
        if (_inboxIndex.Contains(message.MessageId))
        {
            MessagingLog.Dropped(_logger, _component, message.MessageId);
            return ProcessOutcome.Dropped;
        }

        try
        {
            return await HandleCommitAndPublishAsync(message, recordInInbox: true);
        }
        catch (Exception ex) when (ex is not StateWriteFailedException)
        {
            // The point of this mode: acknowledge whatever happens. What was not sent is lost.
            MessagingLog.Lost(_logger, _component, message.MessageId, ex);
            return ProcessOutcome.Lost;
        }
    }

    /// <summary>The weaker modes: commit the data (and maybe the id), then publish from memory, with no outbox.</summary>
    private async Task<ProcessOutcome> HandleCommitAndPublishAsync(IMessage message, bool recordInInbox)
    {
        var outgoing = new OutgoingMessages(_component, message);
        var newData = Handle(message, outgoing);
        Faults.At(FaultPoints.BeforeCommit, _component, message.MessageId);
        await CommitAsync(message.MessageId, () =>
        {
            if (recordInInbox)
            {
                var now = _ports.Clock.GetUtcNow().UtcDateTime;
                PruneInbox(now);
                AddToInbox(message.MessageId, now);
            }

            CommitInMemory(newData, []);
        });
        Faults.At(FaultPoints.AfterCommit, _component, message.MessageId);
        foreach (var entry in outgoing.Entries)
        {
            await _ports.Publisher.PublishAsync(entry.StreamNamespace, entry.StreamKey, entry.Payload, MessagingTracing.CurrentTraceParent(), Now);
        }

        Faults.At(FaultPoints.AfterDispatch, _component, message.MessageId);
        Faults.At(FaultPoints.BeforeAck, _component, message.MessageId);
        MessagingLog.Applied(_logger, _component, message.MessageId, outgoing.Entries.Count);
        _ports.Metrics.Applied(_component, message.Mode);
        return ProcessOutcome.Applied;
    }

    /// <summary>The component's validation; what it throws is marked as the handler's (see <see cref="HandlerFailedException"/>).</summary>
    private string? Validate(IMessage message)
    {
        try
        {
            return _handler.Validate(message);
        }
        catch (Exception ex) when (!RecoverabilityPolicy.IsFatal(ex))
        {
            throw new HandlerFailedException(_component, ex);
        }
    }

    /// <summary>The component's handler on a copy of the committed data; what it throws is marked as the handler's.</summary>
    private TData Handle(IMessage message, OutgoingMessages outgoing)
    {
        try
        {
            return _handler.Handle(_clone(_store.State.Data), message, outgoing);
        }
        catch (Exception ex) when (!RecoverabilityPolicy.IsFatal(ex))
        {
            throw new HandlerFailedException(_component, ex);
        }
    }

    /// <summary>
    /// Numbers the outgoing messages to the declared output streams: the next sequence per
    /// destination, under this component's producer id (taken from the incarnation counter on the
    /// first sequenced send). The counters move in memory here and reach storage with the outbox
    /// entries in the same write; a failed write deactivates the activation, so a number is never
    /// reused for another message.
    /// </summary>
    private async Task<IReadOnlyList<OutboxEntry>> SequenceOutgoingAsync(IReadOnlyList<OutboxEntry> entries)
    {
        var state = _store.State;
        var sequenced = new List<OutboxEntry>(entries.Count);
        foreach (var entry in entries)
        {
            if (entry.Payload.Mode != DeliveryMode.ExactlyOnce || !_identity.SequencedOutputs.Contains(entry.StreamNamespace))
            {
                sequenced.Add(entry);
                continue;
            }

            state.ProducerId ??= ProducerIds.Grain(_component, _identity.Key, await _ports.Incarnations.NextAsync());
            var destination = $"{entry.StreamNamespace}/{entry.StreamKey}";
            var sequence = state.OutputSequences.GetValueOrDefault(destination) + 1;
            state.OutputSequences[destination] = sequence;
            sequenced.Add(entry with { Payload = entry.Payload.WithSequence(state.ProducerId, sequence) });
        }

        return sequenced;
    }

    /// <summary>Registers the recovery reminder before a commit that leaves work behind, so a committed outbox always has a timer that flushes it.</summary>
    private Task PrepareReminderAsync(int newEntries) =>
        newEntries > 0 || _store.State.Outbox.Count > 0 ? EnsureReminderAsync() : Task.CompletedTask;

    /// <summary>Registers the recovery reminder unless it is (or may be) registered already.</summary>
    private async Task EnsureReminderAsync()
    {
        if (!_store.State.FlushReminderRegistered)
        {
            await _ports.Reminder.RegisterAsync();
            _store.State.FlushReminderRegistered = true;
        }
    }

    /// <summary>Drops the fallback ids past the retention, keeping the index in step without rebuilding it from the whole inbox.</summary>
    private void PruneInbox(DateTime now)
    {
        var state = _store.State;
        var dropped = InboxPolicy.Prune(state.Inbox, e => e.ProcessedAtUtc, now, _ports.Options.InboxRetention);
        if (dropped.Count > 0)
        {
            _inboxIndex.ExceptWith(dropped.Select(e => e.MessageId));
            MessagingLog.InboxPruned(_logger, _component, dropped.Count, state.Inbox.Count);
        }
    }

    private void AddToInbox(Guid messageId, DateTime now)
    {
        _store.State.Inbox.Add(new InboxEntry(messageId, now));
        _inboxIndex.Add(messageId);
    }

    private void CommitInMemory(TData newData, IReadOnlyList<OutboxEntry> entries)
    {
        var state = _store.State;
        state.Data = newData;
        if (entries.Count > 0)
        {
            var traceParent = MessagingTracing.CurrentTraceParent();
            var now = Now;
            state.Outbox.AddRange(entries.Select(e => e with { TraceParent = traceParent, CommittedUtc = now }));
        }
    }

    /// <summary>
    /// Changes the state in memory, then writes it. From the first change on, any failure leaves
    /// this instance broken: memory may hold what storage does not (a sequence handed out, a mark
    /// moved), and only a fresh activation reading storage is right again.
    /// </summary>
    private async Task<IReadOnlyList<OutboxEntry>> CommitAsync(Guid messageId, Func<Task<IReadOnlyList<OutboxEntry>>> changeInMemory)
    {
        IReadOnlyList<OutboxEntry> entries;
        try
        {
            entries = await changeInMemory();
        }
        catch
        {
            IsBroken = true;
            throw;
        }

        await WriteAsync(messageId);
        return entries;
    }

    /// <inheritdoc cref="CommitAsync(Guid, Func{Task{IReadOnlyList{OutboxEntry}}})"/>
    private Task CommitAsync(Guid messageId, Action changeInMemory) =>
        CommitAsync(messageId, () =>
        {
            changeInMemory();
            return Task.FromResult<IReadOnlyList<OutboxEntry>>([]);
        });

    /// <summary>Writes the state. Any failure leaves this instance broken: memory cannot be trusted any more.</summary>
    private async Task WriteAsync(Guid messageId)
    {
        try
        {
            await _store.WriteAsync();
            HasUnsavedClear = false;
            _writes++;
            ReportDepths();
        }
        catch (InconsistentStateException ex)
        {
            // Another activation wrote this state: this one is stale. Do not acknowledge; the
            // caller deactivates it and the message is processed again against fresh state.
            IsBroken = true;
            MessagingLog.Fenced(_logger, _component, messageId);
            throw new FencedActivationException(_component, messageId, ex);
        }
        catch (Exception ex)
        {
            // The write may or may not have reached storage: only a fresh activation knows.
            IsBroken = true;
            MessagingLog.WriteFailed(_logger, _component, messageId, ex);
            throw new StateWriteFailedException($"{_component}: state write for {messageId} failed; the activation deactivates and the message is retried against stored state", ex);
        }
    }

    /// <summary>This activation's outbox and hold-back depths, into the silo's sums.</summary>
    private void ReportDepths()
    {
        var state = _store.State;
        long held = 0, blocked = 0;
        foreach (var progress in state.Producers.Values)
        {
            held += progress.Held.Count;
            blocked += progress.HasWaiting ? 1 : 0;
        }

        _depths.Report(state.Outbox.Count, held, blocked);
    }

    /// <summary>The activation is going away: its depths leave the silo's sums.</summary>
    public void ReleaseMetrics() => _depths.Clear();

    private void ThrowIfBroken(Guid messageId)
    {
        if (IsBroken)
        {
            throw new StateWriteFailedException($"{_component}: this activation had a failed state write and is deactivating; {messageId} will be retried by the next activation", null);
        }
    }

    /// <summary>
    /// Publishes the whole outbox in commit order, which is sequence order per destination, and
    /// stops at the first failure: a destination's n+1 never goes out while n is still pending.
    /// </summary>
    private async Task DispatchPendingAsync()
    {
        var outbox = _store.State.Outbox;
        var sent = 0;
        try
        {
            for (; sent < outbox.Count; sent++)
            {
                var entry = outbox[sent];
                await _ports.Publisher.PublishAsync(entry.StreamNamespace, entry.StreamKey, entry.Payload, entry.TraceParent, entry.CommittedUtc);
                MessagingLog.Dispatched(_logger, _component, entry.MessageId, entry.CausedBy);
            }
        }
        finally
        {
            // Removed in memory only once the stream confirmed their inserts; at once, not one by
            // one from the front (a long outbox would shift for every entry).
            if (sent > 0)
            {
                outbox.RemoveRange(0, sent);
                HasUnsavedClear = true;
                ReportDepths();
            }
        }
    }
}
