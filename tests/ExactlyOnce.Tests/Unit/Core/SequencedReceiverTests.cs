using ExactlyOnce.Grains.Billing;
using ExactlyOnce.Faults;
using ExactlyOnce.Grains.Messages;
using ExactlyOnce.Messaging;
using ExactlyOnce.Grains.Orders;
using Xunit.Abstractions;

namespace ExactlyOnce.Tests.Core;

/// <summary>The receiver side of sequenced messages: mark, hold-back, parking, conflicts, no-ops, held failures, state size.</summary>
[Trait("Kind", "Unit")]
public sealed class SequencedReceiverTests(ITestOutputHelper output)
{
    private const string Client = "client/cli/7";

    private readonly FakePublisher _events = new();
    private readonly FakeFaults _faults = new();
    private readonly ManualClock _clock = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    private ComponentHarness<OrderData, OrderCommand> NewOrder(MessagingOptions? options = null) => new(OrderLogic.Instance, _events, _faults, _clock, options);

    private static IMessage Add(long sequence, Filling filling = Filling.Meat) => new AddItem(Guid.NewGuid(), "o1", filling).WithSequence(Client, sequence);

    private static IMessage Remove(long sequence, Filling filling = Filling.Meat) => new RemoveItem(Guid.NewGuid(), "o1", filling).WithSequence(Client, sequence);

    [Fact]
    public async Task Should_apply_an_add_that_failed_before_the_remove_sent_after_it()
    {
        var order = NewOrder();
        var add = Add(1);
        var remove = Remove(2);
        _faults.ThrowAt(FaultPoints.BeforeCommit, 3);

        Assert.Equal(ProcessOutcome.Delayed, await order.DeliverAsync(add));  // m1 fails 3 times: kept for a delayed retry
        Assert.Equal(ProcessOutcome.Held, await order.DeliverAsync(remove));  // m2 overtakes it: held behind it
        Assert.Equal(ProcessOutcome.Duplicate, await order.DeliverAsync(add)); // m1 redelivered early: already kept
        Assert.Empty(order.Store.Persisted.Data.Lines);                       // nothing applied yet
        await order.RetryDueAsync();                                           // m1 applied on its retry, then m2

        Assert.Empty(order.Store.Persisted.Data.Lines);
        Assert.Equal(2, order.Store.Persisted.Producers[Client].Mark);
        Assert.Equal([typeof(ItemAdded), typeof(ItemRemoved)], _events.Published.Select(p => p.Message.GetType()));
        var bill = new BillData();
        foreach (var (_, _, message) in _events.Published)
        {
            bill = BillingLogic.Instance.Handle(bill, (BillingEvent)message, new OutgoingMessages("billing", message));
        }

        Assert.Equal(0m, bill.Total);
    }

    [Fact]
    public async Task Should_treat_a_copy_at_or_below_the_mark_or_already_held_as_a_duplicate()
    {
        var order = NewOrder();
        var first = Add(1);
        var third = Add(3);
        await order.DeliverAsync(first);
        Assert.Equal(ProcessOutcome.Held, await order.DeliverAsync(third));

        Assert.Equal(ProcessOutcome.Duplicate, await order.DeliverAsync(first));
        Assert.Equal(ProcessOutcome.Duplicate, await order.DeliverAsync(third));
        Assert.Single(order.Store.Persisted.Data.Lines);
    }

    [Fact]
    public async Task Should_quarantine_a_reused_sequence_never_apply_or_drop_it_silently()
    {
        var order = NewOrder();
        await order.DeliverAsync(Add(2));
        var impostor = Add(2, Filling.Strawberry);

        Assert.Equal(ProcessOutcome.Conflict, await order.DeliverAsync(impostor));
        var rejected = Assert.Single(order.DeadLetters.Rejected);
        Assert.Equal(impostor.MessageId, rejected.MessageId);
        Assert.Contains("sequence conflict", rejected.Reason);
        await order.DeliverAsync(Add(1));
        Assert.Equal([Filling.Meat, Filling.Meat], order.Store.Persisted.Data.Lines);
    }

    [Fact]
    public async Task Should_quarantine_a_reused_sequence_whose_first_copy_was_parked()
    {
        var order = NewOrder(new MessagingOptions { MaxHeldPerProducer = 4, MaxHeldPerComponent = 1 });
        IMessage From(string producer, long sequence, Filling filling = Filling.Meat) => new AddItem(Guid.NewGuid(), "o1", filling).WithSequence(producer, sequence);
        Assert.Equal(ProcessOutcome.Held, await order.DeliverAsync(From("client/q/1", 2)));   // the component's buffer is full now
        var parked = From(Client, 2);
        Assert.Equal(ProcessOutcome.Parked, await order.DeliverAsync(parked));
        await order.DeliverAsync(From("client/q/1", 1));                                       // frees the buffer

        Assert.Equal(ProcessOutcome.Conflict, await order.DeliverAsync(From(Client, 2, Filling.Strawberry)));
        Assert.Equal(ProcessOutcome.Duplicate, await order.DeliverAsync(parked)); // the same copy again: moved from the parking table into the buffer meanwhile
        await order.DeliverAsync(Add(1));
        Assert.DoesNotContain(Filling.Strawberry, order.Store.Persisted.Data.Lines);
        Assert.Equal(4, order.Store.Persisted.Data.Lines.Count);
    }

    [Fact]
    public async Task Should_apply_an_invalid_sequenced_message_in_order_as_a_recorded_no_op()
    {
        var order = NewOrder();
        Assert.Equal(ProcessOutcome.Held, await order.DeliverAsync(Add(2)));
        var invalid = new AddItem(Guid.NewGuid(), "o1", (Filling)99).WithSequence(Client, 1);

        Assert.Equal(ProcessOutcome.Rejected, await order.DeliverAsync(invalid));

        Assert.Equal(invalid.MessageId, Assert.Single(order.DeadLetters.Rejected).MessageId);
        Assert.Equal(2, order.Store.Persisted.Producers[Client].Mark); // the hole is filled; #2 followed
        Assert.Equal([Filling.Meat], order.Store.Persisted.Data.Lines);
    }

    [Fact]
    public async Task Should_park_beyond_the_buffer_and_apply_everything_in_order_once_the_gap_fills()
    {
        var order = NewOrder(new MessagingOptions { MaxHeldPerProducer = 4, MaxHeldPerComponent = 8 });
        var messages = Enumerable.Range(1, 20).Select(i => Add(i, (Filling)(1 + (i % 5)))).ToList();
        foreach (var m in messages.Skip(1))
        {
            await order.DeliverAsync(m);
        }

        Assert.Equal(4, order.Store.Persisted.Producers[Client].Held.Count);
        Assert.Equal(15, order.Parking.Rows.Count);

        Assert.Equal(ProcessOutcome.Applied, await order.DeliverAsync(messages[0]));

        Assert.Equal(messages.Select(m => ((AddItem)m).Filling), order.Store.Persisted.Data.Lines);
        Assert.Equal(20, order.Store.Persisted.Producers[Client].Mark);
        Assert.Empty(order.Parking.Rows);
        Assert.Equal(0, order.Store.Persisted.Producers[Client].ParkedHigh);
    }

    [Fact]
    public async Task Should_keep_parked_rows_parked_while_a_full_buffer_waits_for_the_gap()
    {
        var order = NewOrder(new MessagingOptions { MaxHeldPerProducer = 4, MaxHeldPerComponent = 8 });
        var messages = Enumerable.Range(1, 12).Select(i => Add(i, (Filling)(1 + (i % 5)))).ToList();
        // #1 applied, #6-#9 fill the buffer, #10-#12 and #3-#5 (below everything held) are parked; #2 is the gap.
        foreach (var sequence in (int[])[1, 6, 7, 8, 9, 10, 11, 12, 3, 4, 5])
        {
            await order.DeliverAsync(messages[sequence - 1]);
        }

        // Release passes while the gap is open: the reminder, a copy at the mark, a restart, the reminder again.
        await order.TickAsync();
        Assert.Equal(ProcessOutcome.Duplicate, await order.DeliverAsync(messages[0]));
        await order.CrashAndRecoverAsync();
        await order.TickAfterPeriodAsync();

        var progress = order.Store.Persisted.Producers[Client];
        Assert.Equal([6L, 7, 8, 9], progress.Held.Select(h => h.Sequence));
        Assert.Equal(12, progress.ParkedHigh);
        Assert.Equal([3L, 4, 5, 10, 11, 12], order.Parking.Rows.Keys.Select(k => k.Sequence));
        Assert.Equal((4, 4), order.MostHeldStored);

        Assert.Equal(ProcessOutcome.Applied, await order.DeliverAsync(messages[1]));

        Assert.Equal(messages.Select(m => ((AddItem)m).Filling), order.Store.Persisted.Data.Lines);
        progress = order.Store.Persisted.Producers[Client];
        Assert.Equal((12L, 0L), (progress.Mark, progress.ParkedHigh));
        Assert.Empty(progress.Held);
        Assert.Empty(order.Parking.Rows);
        // #3, #4 and #5 each came back behind the full buffer on its turn: one over, never an early arrival.
        Assert.Equal((5, 4), order.MostHeldStored);
        await order.TickAsync();
        Assert.False(order.Reminder.Registered);
    }

    [Fact]
    public async Task Should_unpark_the_message_whose_turn_it_is_even_when_the_buffer_is_full()
    {
        var order = NewOrder(new MessagingOptions { MaxHeldPerProducer = 4, MaxHeldPerComponent = 8 });
        var messages = Enumerable.Range(1, 8).Select(i => Add(i, (Filling)(1 + (i % 5)))).ToList();
        // #4-#7 fill the buffer; #2, #3 and #8 are parked.
        foreach (var sequence in (int[])[4, 5, 6, 7, 2, 3, 8])
        {
            await order.DeliverAsync(messages[sequence - 1]);
        }

        Assert.Equal([2L, 3, 8], order.Parking.Rows.Keys.Select(k => k.Sequence));

        // #1 makes #2's turn come while it is parked behind the full buffer.
        Assert.Equal(ProcessOutcome.Applied, await order.DeliverAsync(messages[0]));

        Assert.Equal(messages.Select(m => ((AddItem)m).Filling), order.Store.Persisted.Data.Lines);
        var progress = order.Store.Persisted.Producers[Client];
        Assert.Equal((8L, 0L), (progress.Mark, progress.ParkedHigh));
        Assert.Empty(progress.Held);
        Assert.Empty(order.Parking.Rows);
        Assert.Equal((5, 4), order.MostHeldStored);
    }

    [Fact]
    public async Task Should_keep_an_unparked_message_whose_turn_it_is_for_its_delayed_retry_and_unpark_nothing_else()
    {
        var order = NewOrder(new MessagingOptions { MaxHeldPerProducer = 4, MaxHeldPerComponent = 8 });
        var messages = Enumerable.Range(1, 8).Select(i => Add(i, (Filling)(1 + (i % 5)))).ToList();
        foreach (var sequence in (int[])[4, 5, 6, 7, 2, 3, 8])
        {
            await order.DeliverAsync(messages[sequence - 1]);
        }

        _faults.Decide = (point, _, id) => point == FaultPoints.BeforeCommit && id == messages[1].MessageId ? new PoisonFaultException(point, "order", id) : null;
        Assert.Equal(ProcessOutcome.Applied, await order.DeliverAsync(messages[0]));
        await order.TickAsync(); // not due yet

        var progress = order.Store.Persisted.Producers[Client];
        Assert.Equal([2L, 4, 5, 6, 7], progress.Held.Select(h => h.Sequence));
        Assert.Equal(3, progress.Held[0].Failures);
        Assert.Equal([3L, 8], order.Parking.Rows.Keys.Select(k => k.Sequence));

        _faults.Decide = null;
        await order.RetryDueAsync();

        Assert.Equal(messages.Select(m => ((AddItem)m).Filling), order.Store.Persisted.Data.Lines);
        Assert.Empty(order.Store.Persisted.Producers[Client].Held);
        Assert.Empty(order.Parking.Rows);
        Assert.Equal((5, 4), order.MostHeldStored);
    }

    [Fact]
    public async Task Should_keep_a_failing_held_message_held_without_blaming_the_message_that_filled_the_gap()
    {
        var order = NewOrder();
        var first = Add(1);
        var second = Add(2, Filling.Mushrooms);
        await order.DeliverAsync(second);
        _faults.Decide = (point, _, id) => point == FaultPoints.BeforeCommit && id == second.MessageId ? new PoisonFaultException(point, "order", id) : null;

        Assert.Equal(ProcessOutcome.Applied, await order.DeliverAsync(first));

        // Tried three times at once (two immediate retries), then kept for its first delayed retry.
        var held = Assert.Single(order.Store.Persisted.Producers[Client].Held);
        Assert.Equal((2L, 3), (held.Sequence, held.Failures));
        Assert.StartsWith("PoisonFaultException: simulated handler bug", held.LastError);
        Assert.Equal(_clock.Now.UtcDateTime + TimeSpan.FromSeconds(5), held.DueUtc);
        Assert.Equal(held.DueUtc, order.RetryTimer.Due);
        Assert.True(order.Reminder.Registered); // the durable backstop of the timer

        _faults.Decide = null;
        await order.TickAsync();                // not due yet: it waits
        Assert.Equal([Filling.Meat], order.Store.Persisted.Data.Lines);
        await order.RetryDueAsync();
        Assert.Equal([Filling.Meat, Filling.Mushrooms], order.Store.Persisted.Data.Lines);
        Assert.Empty(order.Store.Persisted.Producers[Client].Held);
        await order.TickAsync();
        Assert.False(order.Reminder.Registered);
    }

    [Fact]
    public async Task Should_dead_letter_a_held_message_after_its_failures_and_let_a_tombstone_fill_its_place()
    {
        var order = NewOrder(new MessagingOptions { Recoverability = new RecoverabilityOptions { ImmediateRetries = 0, DelayedRetries = 1 } });
        var (first, second, third) = (Add(1), Add(2, Filling.Mushrooms), Add(3, Filling.Strawberry));
        await order.DeliverAsync(second);
        await order.DeliverAsync(third);
        _faults.Decide = (point, _, id) => point == FaultPoints.BeforeCommit && id == second.MessageId ? new PoisonFaultException(point, "order", id) : null;

        Assert.Equal(ProcessOutcome.Applied, await order.DeliverAsync(first)); // failure 1 of #2: delayed
        await order.RetryDueAsync();                                            // failure 2: given up

        var letter = Assert.Single(order.DeadLetters.DeadLettered);
        Assert.Equal((second.MessageId, 2), (letter.Message.MessageId, letter.Failure.Failures));
        Assert.Contains("handler bug", letter.Failure.Reason);
        Assert.True(letter.Failure.LastFailureUtc > letter.Failure.FirstFailureUtc);
        var progress = order.Store.Persisted.Producers[Client];
        Assert.Equal(1, progress.Mark);                                   // blocked at #2, visibly
        Assert.Equal([3L], progress.Held.Select(h => h.Sequence));

        Assert.Equal(ProcessOutcome.Rejected, await order.DeliverAsync(SequenceTombstone.For(Client, 2, "test")));
        Assert.Equal([Filling.Meat, Filling.Strawberry], order.Store.Persisted.Data.Lines);
        Assert.Equal(3, order.Store.Persisted.Producers[Client].Mark);
        Assert.Contains(order.DeadLetters.Rejected, r => r.Reason.StartsWith("tombstone applied", StringComparison.Ordinal));

        // The real message, replayed late: a duplicate now.
        _faults.Decide = null;
        Assert.Equal(ProcessOutcome.Duplicate, await order.DeliverAsync(second));
        Assert.Equal(2, order.Store.Persisted.Data.Lines.Count);
    }

    [Fact]
    public async Task Should_forget_retired_runs_and_still_recognise_their_late_copies()
    {
        var order = NewOrder();
        IMessage FromRun(long incarnation, long sequence) => new AddItem(Guid.NewGuid(), "o1", Filling.Meat).WithSequence($"run/r/{incarnation}", sequence);
        var late = FromRun(5, 2);
        await order.DeliverAsync(FromRun(5, 1));
        await order.DeliverAsync(late);
        await order.DeliverAsync(Add(1));
        Assert.Equal(2, order.Store.Persisted.Producers.Count);

        await order.Processor.RetireRunsAsync(5);

        var persisted = order.Store.Persisted;
        Assert.Equal([Client], persisted.Producers.Keys);    // the named producer is kept
        Assert.Equal(5, persisted.RetiredRunsThrough);
        Assert.Equal(long.MaxValue, order.Processor.MarkOf("run/r/5"));
        Assert.Equal(ProcessOutcome.Duplicate, await order.DeliverAsync(late)); // a re-send any time later
        Assert.Equal(ProcessOutcome.Duplicate, await order.DeliverAsync(FromRun(4, 1)));
        Assert.Equal(3, order.Store.Persisted.Data.Lines.Count);
        Assert.Equal(ProcessOutcome.Applied, await order.DeliverAsync(FromRun(6, 1))); // a run above the watermark is new
    }

    [Fact]
    public async Task Should_be_a_new_producer_with_a_new_incarnation_when_the_senders_state_was_cleared()
    {
        var incarnations = new FakeIncarnations();
        var sender = new ComponentHarness<OrderData, OrderCommand>(OrderLogic.Instance, _events, _faults, _clock, incarnations: incarnations);
        await sender.DeliverAsync(Add(1));
        var cleared = new ComponentHarness<OrderData, OrderCommand>(OrderLogic.Instance, _events, _faults, _clock, incarnations: incarnations);
        await cleared.DeliverAsync(Add(1));

        var (before, after) = (_events.Published[0].Message, _events.Published[1].Message);
        Assert.Equal(1, before.Sequence);
        Assert.Equal(1, after.Sequence);
        Assert.NotEqual(before.ProducerId, after.ProducerId);
        Assert.StartsWith("grain/order/o1/", after.ProducerId);
    }

    [Fact]
    public async Task Should_keep_the_state_write_constant_over_25000_sequenced_messages()
    {
        var order = NewOrder();
        var sizes = new Dictionary<int, (int Whole, int Protocol)>();
        var messages = Enumerable.Range(1, 25_001).Select(i => i % 2 == 1 ? Add(i) : Remove(i)).ToList();
        for (var i = 1; i <= 25_000; i++)
        {
            // Every 50th is overtaken by the one after it, which then arrives again, as redeliveries do.
            if (i % 50 == 0 && i < 25_000)
            {
                Assert.Equal(ProcessOutcome.Held, await order.DeliverAsync(messages[i]));
            }

            await order.DeliverAsync(messages[i - 1]);
            if (i is 1_000 or 25_000)
            {
                var persisted = order.Store.Persisted;
                sizes[i] = (StateSerializer.Serialize(persisted).Length, StateSerializer.Serialize(new ComponentState<OrderData>
                {
                    Inbox = persisted.Inbox,
                    Outbox = persisted.Outbox,
                    Producers = persisted.Producers,
                    OutputSequences = persisted.OutputSequences,
                    ProducerId = persisted.ProducerId,
                }).Length);
            }
        }

        var state = order.Store.Persisted;
        var dedupEntries = state.Producers.Count + state.Producers.Values.Sum(p => p.Held.Count) + state.Inbox.Count;
        output.WriteLine($"state write after 1,000: {sizes[1_000]} B, after 25,000: {sizes[25_000]} B (whole, protocol part); dedup entries {dedupEntries}");
        Assert.True(dedupEntries <= 10, $"{dedupEntries} dedup entries");
        Assert.Equal(25_000, state.Producers[Client].Mark);
        Assert.Equal(25_000, _events.Published.Count);
        // Only varints may grow (the mark, the output sequence, the last event's line count): a few bytes.
        Assert.InRange(sizes[25_000].Whole - sizes[1_000].Whole, 0, 8);
        Assert.InRange(sizes[25_000].Protocol - sizes[1_000].Protocol, 0, 8);
    }
}
