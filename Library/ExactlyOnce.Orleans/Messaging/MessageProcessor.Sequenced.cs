using System.Diagnostics;
using ExactlyOnce.Diagnostics;
using ExactlyOnce.Faults;

namespace ExactlyOnce.Messaging;

/// <summary>
/// Sequenced exactly-once messages: per producer, a mark (every sequence up to it applied, in
/// order) and a bounded hold-back buffer of early arrivals, with the parking table beyond it.
/// </summary>
internal sealed partial class MessageProcessor<TData>
{
    /// <summary>A sequenced delivery: <paramref name="arrival"/> is the message with where it came from, not yet waiting.</summary>
    private async Task<ProcessOutcome> SequencedAsync(HeldMessage arrival)
    {
        var message = arrival.Message;
        var producerId = message.ProducerId!;
        if (message.Sequence < 1)
        {
            // It cannot take a turn it does not have; no producer's order depends on it.
            await _handler.RejectAsync(message, InputOf(message), $"sequence {message.Sequence} of producer {producerId} is not a position (must be at least 1)");
            return ProcessOutcome.Rejected;
        }

        var progress = _store.State.Producers.GetValueOrDefault(producerId);
        if (progress is null && ProducerIds.IsRetiredRun(producerId, _store.State.RetiredRunsThrough))
        {
            // A finished run sending again (a late re-send): everything it ever sent here is applied.
            return await DuplicateAsync(message);
        }

        var mark = progress?.Mark ?? 0;
        if (message.Sequence <= mark)
        {
            return await DuplicateAsync(message);
        }

        if (progress?.Held.Find(h => h.Sequence == message.Sequence) is { } held)
        {
            if (held.Message.MessageId != message.MessageId)
            {
                return await ConflictAsync(message, held.Message.MessageId);
            }

            MessagingLog.DuplicateHeld(_logger, _component, message.MessageId, producerId, message.Sequence);
            Faults.At(FaultPoints.BeforeAck, _component, message.MessageId);
            return ProcessOutcome.Duplicate;
        }

        if (message.Sequence > mark + 1)
        {
            var outcome = await HoldAsync(arrival);
            Faults.At(FaultPoints.BeforeAck, _component, message.MessageId);
            return outcome;
        }

        var applied = await ApplyWithPolicyAsync(arrival);
        // The messages it unblocks: their failures stay with them, never with this one.
        await ReleaseReadyAsync();
        Faults.At(FaultPoints.BeforeAck, _component, message.MessageId);
        return applied;
    }

    /// <summary>
    /// Applies the message whose turn it is (sequence = mark + 1): handle, commit data + mark +
    /// outbox in one write, dispatch. An invalid message takes its turn as a recorded no-op, so it
    /// never leaves a hole that would block its producer.
    /// </summary>
    private async Task<ProcessOutcome> ApplyInOrderAsync(IMessage message, string? discardReason = null)
    {
        // While ids from before sequencing (or from unsequenced senders) are remembered, they count
        // too: such a message was applied under its id, so its turn passes as a no-op.
        var appliedBefore = _inboxIndex.Contains(message.MessageId);
        var reason = appliedBefore ? null
            : message is SequenceTombstone tombstone ? $"tombstone applied: {message.ProducerId} #{message.Sequence} discarded ({tombstone.Reason})"
            : discardReason ?? Validate(message);
        var outgoing = new OutgoingMessages(_component, message);
        var newData = reason is null && !appliedBefore ? Handle(message, outgoing) : null;
        Faults.At(FaultPoints.BeforeCommit, _component, message.MessageId);
        if (reason is not null)
        {
            // Recorded before the commit that skips it (the record is idempotent), so a crash in
            // between only records it again.
            MessagingLog.Rejected(_logger, _component, message.MessageId, reason);
            await _handler.RejectAsync(message, InputOf(message), reason);
        }

        await PrepareReminderAsync(outgoing.Entries.Count);
        var entries = await CommitAsync(message.MessageId, async () =>
        {
            var sequenced = await SequenceOutgoingAsync(outgoing.Entries);
            var progress = ProgressOf(message.ProducerId!);
            progress.Mark = message.Sequence;
            progress.Held.RemoveAll(h => h.Sequence <= progress.Mark);
            CommitInMemory(newData ?? _store.State.Data, sequenced);
            return sequenced;
        });
        Faults.At(FaultPoints.AfterCommit, _component, message.MessageId);

        await DispatchPendingAsync();
        Faults.At(FaultPoints.AfterDispatch, _component, message.MessageId);
        MessagingLog.AppliedSequenced(_logger, _component, message.MessageId, message.ProducerId!, message.Sequence, entries.Count);
        if (appliedBefore || reason is not null)
        {
            return appliedBefore ? ProcessOutcome.Duplicate : ProcessOutcome.Rejected;
        }

        _ports.Metrics.Applied(_component, message.Mode);
        _lastAppliedUtc = Now;
        return ProcessOutcome.Applied;
    }

    /// <summary>
    /// Applies the message whose turn it is under the recoverability policy. A failure before its
    /// commit (validation, handler, a fault) is counted: retried at once, kept in the state for a
    /// delayed retry (acknowledged; its producer's later messages wait behind it), dead-lettered
    /// or discarded, as <see cref="RecoverabilityPolicy"/> decides. A failed write, or a failure
    /// after the commit, is not the message's fault: it propagates, and the stream (or the next
    /// recovery pass) brings the message back. <paramref name="turn"/>: the message with its failures
    /// so far and its origin, which a delayed retry or dead letter keeps.
    /// </summary>
    private async Task<ProcessOutcome> ApplyWithPolicyAsync(HeldMessage turn)
    {
        var message = turn.Message;
        var producerId = message.ProducerId!;
        var failures = turn.Failures;
        var firstFailure = turn.FirstFailureUtc;
        while (true)
        {
            try
            {
                return await ApplyInOrderAsync(message);
            }
            catch (Exception ex) when (!IsBroken && !RecoverabilityPolicy.IsFatal(ex) && MarkOf(producerId) < message.Sequence)
            {
                var now = Now;
                failures++;
                firstFailure ??= now;
                var decision = _policy.Decide(new MessageFailure(ex, failures, now - firstFailure.Value, _lastAppliedUtc > firstFailure.Value));
                MessagingLog.AttemptFailed(_logger, _component, message.MessageId, producerId, message.Sequence, failures, decision.Action, decision.Kind, decision.Delay, ex);
                switch (decision.Action)
                {
                    case RetryAction.RetryNow:
                        _ports.Metrics.Retried(_component, decision.Action, decision.Kind);
                        continue;
                    case RetryAction.RetryLater:
                        _ports.Metrics.Retried(_component, decision.Action, decision.Kind);
                        await DelayAsync(turn with
                        {
                            Failures = failures,
                            LastError = decision.Reason,
                            FirstFailureUtc = firstFailure,
                            LastFailureUtc = now,
                            DueUtc = now + decision.Delay,
                        });
                        return ProcessOutcome.Delayed;
                    case RetryAction.DeadLetter:
                        await DeadLetterAsync(turn with { Failures = failures, LastError = decision.Reason, FirstFailureUtc = firstFailure, LastFailureUtc = now });
                        return ProcessOutcome.DeadLettered;
                    default:
                        _ports.Metrics.Discarded(_component);
                        return await ApplyInOrderAsync(message, decision.Reason);
                }
            }
        }
    }

    /// <summary>Keeps the message whose turn it is in the state until its due time; the timer (and the reminder, durably) brings it back.</summary>
    private async Task DelayAsync(HeldMessage retry)
    {
        await EnsureReminderAsync();
        await CommitAsync(retry.Message.MessageId, () =>
        {
            var progress = ProgressOf(retry.Message.ProducerId!);
            var at = progress.Held.FindIndex(h => h.Sequence == retry.Sequence);
            if (at >= 0)
            {
                progress.Held[at] = retry;
            }
            else
            {
                progress.Held.Insert(0, retry);
            }
        });
        _ports.RetryTimer.WakeAt(retry.DueUtc!.Value);
    }

    /// <summary>
    /// Stores the message in the dead letters, then removes it from the state if it was held there
    /// (a crash in between leaves it held, and the letter written twice is one row). The mark stays
    /// below it, so its producer's later messages wait until it is replayed or discarded.
    /// </summary>
    private async Task DeadLetterAsync(HeldMessage failed)
    {
        var message = failed.Message;
        await _handler.DeadLetterAsync(message, InputOf(message), new FailureRecord(failed.Failures, failed.LastError!, failed.FirstFailureUtc!.Value, failed.LastFailureUtc!.Value), failed.Origin);
        var progress = _store.State.Producers.GetValueOrDefault(message.ProducerId!);
        var at = progress?.Held.FindIndex(h => h.Sequence == message.Sequence) ?? -1;
        if (at >= 0)
        {
            await CommitAsync(message.MessageId, () => progress!.Held.RemoveAt(at));
        }

        _ports.Metrics.DeadLettered(_component);
        MessagingLog.HeldDeadLettered(_logger, _component, message.MessageId, message.ProducerId!, message.Sequence, failed.Failures);
    }

    /// <summary>An early arrival: committed to the buffer (or parked when the buffer is full), then acknowledged. Never refused.</summary>
    private async Task<ProcessOutcome> HoldAsync(HeldMessage arrival)
    {
        var message = arrival.Message;
        var producerId = message.ProducerId!;
        var state = _store.State;
        var progress = state.Producers.GetValueOrDefault(producerId);
        var heldHere = progress?.Held.Count ?? 0;
        var heldInAll = state.Producers.Values.Sum(p => p.Held.Count);
        // At or below something parked, the parking table decides (it tells a copy from a reused sequence).
        var aboveParked = message.Sequence > (progress?.ParkedHigh ?? 0);
        if (heldHere < _ports.Options.MaxHeldPerProducer && heldInAll < _ports.Options.MaxHeldPerComponent && aboveParked)
        {
            await CommitAsync(message.MessageId, () => InsertHeld(ProgressOf(producerId), arrival));
            MessagingLog.Held(_logger, _component, message.MessageId, producerId, message.Sequence, progress?.Mark ?? 0);
            return ProcessOutcome.Held;
        }

        // Beyond the buffer: the parking table, keyed (receiver, producer, sequence), written only if absent.
        var parked = await _ports.Parking.ParkAsync(_identity.Receiver, arrival);
        if (parked == ParkResult.Conflict)
        {
            return await ConflictAsync(message, existing: null);
        }

        if (message.Sequence > (progress?.ParkedHigh ?? 0))
        {
            await CommitAsync(message.MessageId, () => ProgressOf(producerId).ParkedHigh = message.Sequence);
        }

        MessagingLog.Parked(_logger, _component, message.MessageId, producerId, message.Sequence);
        return ProcessOutcome.Parked;
    }

    /// <summary>A producer's sequence came again under another message id: quarantined, visible, never applied or dropped silently.</summary>
    private async Task<ProcessOutcome> ConflictAsync(IMessage message, Guid? existing)
    {
        var holder = existing is { } id ? $"message {id}" : "another parked message";
        MessagingLog.SequenceConflict(_logger, _component, message.MessageId, message.ProducerId!, message.Sequence, holder);
        await _handler.RejectAsync(message, InputOf(message), $"sequence conflict: producer {message.ProducerId} sequence {message.Sequence} is taken by {holder}");
        Faults.At(FaultPoints.BeforeAck, _component, message.MessageId);
        return ProcessOutcome.Conflict;
    }

    /// <summary>
    /// Applies held (and parked) messages whose turn has come, one at a time, committing each. A
    /// held message whose handler fails stays held with its failure counted, and the rest of its
    /// producer's messages wait behind it; the recovery reminder retries it.
    /// </summary>
    private async Task ReleaseReadyAsync()
    {
        var state = _store.State;
        foreach (var producerId in state.Producers.Keys.ToList())
        {
            while (true)
            {
                var progress = state.Producers[producerId];
                if (progress.Held.Count == 0 || progress.Held[0].Sequence != progress.Mark + 1)
                {
                    if (progress.ParkedHigh > 0 && await UnparkAsync(producerId, progress))
                    {
                        continue;
                    }

                    break;
                }

                var next = progress.Held[0];
                if (next.DueUtc is { } due && due > Now)
                {
                    // A delayed retry: not before its time; the producer's later messages wait behind it.
                    _ports.RetryTimer.WakeAt(due);
                    break;
                }

                try
                {
                    // Its failures are counted, delayed or dead-lettered by the policy, never charged to the caller.
                    await ApplyReleasedAsync(next);
                }
                catch (Exception ex) when (!IsBroken && !RecoverabilityPolicy.IsFatal(ex))
                {
                    // Applied and committed, but a fault struck after the commit: the outbox and
                    // the producer's later messages wait for the next recovery pass.
                    break;
                }
            }
        }

        if (HasRecoveryWork())
        {
            // Whatever is left has no delivery coming back for it (held messages were acknowledged).
            await EnsureReminderAsync();
        }
    }

    /// <summary>
    /// Applies a message kept until its turn (held, unparked, or due for a delayed retry) as its own:
    /// in its own process span, a child of the span that sent it and linked to the span of the
    /// delivery or pass that released it, so what it sends continues its trace; its latency is
    /// measured from its own send.
    /// </summary>
    private async Task ApplyReleasedAsync(HeldMessage next)
    {
        using var span = MessagingTracing.StartProcessSpan(_component, InputOf(next.Message), next.Message, next.Origin, Activity.Current?.Context ?? default);
        var outcome = await ApplyWithPolicyAsync(next);
        span?.SetTag("exactlyonce.outcome", outcome.ToString());
        if (outcome == ProcessOutcome.Applied)
        {
            RecordLatency(next.Origin);
        }
    }

    /// <summary>
    /// Moves the lowest parked messages of the producer into the buffer, as many as it has room
    /// for; false when none moved. When the buffer is full, only the message whose turn it is
    /// (mark + 1) moves, so its producer never stalls behind a full buffer: the buffer then holds
    /// at most <see cref="MessagingOptions.MaxHeldPerProducer"/> early arrivals plus that message,
    /// which is applied next (or waits there for a delayed retry, as a failed mark + 1 does).
    /// Rows at or below the mark (copies that arrived again and were applied directly) are
    /// removed, and only when no row above the mark is left is the producer marked as having
    /// nothing parked.
    /// </summary>
    private async Task<bool> UnparkAsync(string producerId, ProducerProgress progress)
    {
        var room = _ports.Options.MaxHeldPerProducer - progress.Held.Count;
        // When full, the lowest row alone tells whether mark + 1 is parked.
        var parked = progress.ParkedHigh > progress.Mark
            ? await _ports.Parking.ReadAsync(_identity.Receiver, producerId, progress.Mark, Math.Max(1, room))
            : [];
        if (parked.Count == 0)
        {
            await _ports.Parking.RemoveAsync(_identity.Receiver, producerId, progress.Mark, []);
            await CommitAsync(Guid.Empty, () => progress.ParkedHigh = 0);
            return false;
        }

        if (room <= 0 && parked[0].Sequence != progress.Mark + 1)
        {
            // Full, and mark + 1 is not parked: a row moved now would only wait in the state, over
            // the bound. The rows stay parked (ParkedHigh kept) until room appears or their turn comes.
            return false;
        }

        var moved = new List<long>();
        await CommitAsync(Guid.Empty, () =>
        {
            foreach (var message in parked.Where(m => !progress.Held.Exists(h => h.Sequence == m.Sequence)))
            {
                InsertHeld(progress, message);
                moved.Add(message.Sequence);
            }
        });

        // Only after the buffer holding them is stored; stale rows (at or below the mark) go too.
        await _ports.Parking.RemoveAsync(_identity.Receiver, producerId, progress.Mark, [.. parked.Select(m => m.Sequence)]);
        MessagingLog.Unparked(_logger, _component, producerId, moved.Count);
        return moved.Count > 0;
    }

    /// <summary>
    /// Applies the retirement watermark: drops the entries of run producers at or below it (they
    /// are complete everywhere) and stores the watermark in the same write, so a later copy of
    /// theirs is a duplicate by construction. Named producers (grains, named clients) are kept.
    /// </summary>
    public async Task RetireRunsAsync(long watermark)
    {
        ThrowIfBroken(Guid.Empty);
        var state = _store.State;
        if (watermark <= state.RetiredRunsThrough)
        {
            return;
        }

        var retired = state.Producers.Keys.Where(p => ProducerIds.IsRetiredRun(p, watermark)).ToList();
        await CommitAsync(Guid.Empty, () =>
        {
            foreach (var producerId in retired)
            {
                state.Producers.Remove(producerId);
            }

            state.RetiredRunsThrough = watermark;
        });
        MessagingLog.RunsRetired(_logger, _component, watermark, retired.Count);
    }

    /// <summary>The applied mark of a producer: 0 when unknown, <see cref="long.MaxValue"/> when retired here.</summary>
    public long MarkOf(string producerId) =>
        _store.State.Producers.TryGetValue(producerId, out var progress) ? progress.Mark
        : ProducerIds.IsRetiredRun(producerId, _store.State.RetiredRunsThrough) ? long.MaxValue
        : 0;

    /// <summary>Puts an early arrival into the producer's buffer, which stays in ascending sequence order.</summary>
    private static void InsertHeld(ProducerProgress progress, HeldMessage message)
    {
        var at = progress.Held.FindIndex(h => h.Sequence > message.Sequence);
        progress.Held.Insert(at < 0 ? progress.Held.Count : at, message);
    }

    private ProducerProgress ProgressOf(string producerId)
    {
        var producers = _store.State.Producers;
        if (!producers.TryGetValue(producerId, out var progress))
        {
            progress = new ProducerProgress();
            producers[producerId] = progress;
        }

        return progress;
    }

    /// <summary>True while the reminder must stay: an outbox to send, or a held message whose turn has come.</summary>
    private bool HasRecoveryWork()
    {
        var state = _store.State;
        return state.Outbox.Count > 0 || state.Producers.Values.Any(p =>
            (p.Held.Count > 0 && p.Held[0].Sequence == p.Mark + 1) || p.ParkedHigh > p.Mark);
    }
}
