using ExactlyOnce.Grains;
using ExactlyOnce.Grains.Billing;
using ExactlyOnce.Faults;
using ExactlyOnce.Grains.Messages;
using ExactlyOnce.Messaging;
using ExactlyOnce.Grains.Orders;
using Xunit.Abstractions;

namespace ExactlyOnce.Tests.Core;

/// <summary>The protocol's steps and their failure points, on in-memory fakes (pure logic).</summary>
[Trait("Kind", "Unit")]
public sealed class MessageProcessorTests
{
    private readonly FakePublisher _publisher = new();
    private readonly FakeFaults _faults = new();
    private readonly ManualClock _clock = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly ComponentHarness<OrderData, OrderCommand> _order;

    private readonly ITestOutputHelper _output;

    public MessageProcessorTests(ITestOutputHelper output)
    {
        _output = output;
        _order = new(OrderLogic.Instance, _publisher, _faults, _clock);
    }

    private static AddItem Add(Filling filling, string order = "o1") => new(Guid.NewGuid(), order, filling);

    [Fact]
    public async Task Should_send_nothing_when_the_commit_fails_and_apply_once_on_retry()
    {
        var add = Add(Filling.Meat);
        _faults.ThrowAt(FaultPoints.BeforeCommit, 3); // the delivery and its two immediate retries

        // Unsequenced: no place in the state to wait, so the transient failure goes back to the stream.
        await Assert.ThrowsAsync<SimulatedFaultException>(() => _order.DeliverAsync(add));
        Assert.Empty(_publisher.Published); // no ghost: nothing left before the commit
        Assert.Empty(_order.Store.Persisted.Data.Lines);

        Assert.Equal(ProcessOutcome.Applied, await _order.DeliverAsync(add));
        Assert.Equal([Filling.Meat], _order.Store.Persisted.Data.Lines);
        Assert.Single(_publisher.Published);
    }

    [Fact]
    public async Task Should_refuse_everything_after_a_failed_write_until_a_fresh_activation_reads_storage()
    {
        var add = Add(Filling.Meat);
        _order.Store.FailNextWrite = new TimeoutException("database timeout");

        var failure = await Assert.ThrowsAsync<StateWriteFailedException>(() => _order.DeliverAsync(add));
        Assert.IsType<TimeoutException>(failure.InnerException);
        Assert.True(_order.Processor.IsBroken);
        // Memory may hold what storage does not: this activation acknowledges nothing more.
        await Assert.ThrowsAsync<StateWriteFailedException>(() => _order.DeliverAsync(Add(Filling.Mushrooms)));
        Assert.Empty(_publisher.Published);

        await _order.CrashAndRecoverAsync(); // the grain deactivated; the next activation reads storage
        Assert.Equal(ProcessOutcome.Applied, await _order.DeliverAsync(add));
        Assert.Equal([Filling.Meat], _order.Store.Persisted.Data.Lines);
        Assert.Single(_publisher.Published);
    }

    [Fact]
    public async Task Should_send_the_stored_message_after_an_after_commit_fault_with_the_same_id_and_payload()
    {
        var add = Add(Filling.Mushrooms);
        _faults.ThrowOnceAt(FaultPoints.AfterCommit);

        await Assert.ThrowsAsync<SimulatedFaultException>(() => _order.DeliverAsync(add));
        var stored = Assert.Single(_order.Store.Persisted.Outbox);
        Assert.Empty(_publisher.Published);

        // Redelivery: a duplicate, so the handler does not run again; the stored copy is sent.
        Assert.Equal(ProcessOutcome.Duplicate, await _order.DeliverAsync(add));
        var sent = Assert.Single(_publisher.Published);
        Assert.Equal(stored.MessageId, sent.Message.MessageId);
        Assert.Equal(stored.Payload, sent.Message);
        Assert.Single(_order.Processor.State.Data.Lines);
    }

    [Fact]
    public async Task Should_flush_a_committed_outbox_when_a_crashed_component_recovers()
    {
        var add = Add(Filling.SwissCheese);
        _faults.Decide = (point, _, _) => point == FaultPoints.AfterCommit ? new SimulatedFaultException(point, "order", add.MessageId) : null;
        await Assert.ThrowsAsync<SimulatedFaultException>(() => _order.DeliverAsync(add));
        _faults.Decide = null;
        Assert.True(_order.Reminder.Registered, "a committed outbox must have a flush reminder");

        await _order.CrashAndRecoverAsync(); // activation flush, without any redelivery

        var sent = Assert.Single(_publisher.Published);
        Assert.Equal(MessageIds.Derive(add.MessageId, "order", 0), sent.Message.MessageId);
        Assert.Empty(_order.Store.Persisted.Outbox);
        Assert.False(_order.Reminder.Registered);
    }

    [Fact]
    public async Task Should_publish_pending_messages_in_sequence_order_with_their_committed_payloads()
    {
        var first = Add(Filling.Meat);
        var second = Add(Filling.Strawberry);
        _faults.ThrowOnceAt(FaultPoints.AfterCommit);
        await Assert.ThrowsAsync<SimulatedFaultException>(() => _order.DeliverAsync(first));

        // The second commit's dispatch sends the first's pending event before its own: n+1
        // never goes out while n is pending.
        await _order.DeliverAsync(second);
        Assert.Equal(ProcessOutcome.Duplicate, await _order.DeliverAsync(first)); // redelivered: nothing left to send

        var events = _publisher.Published.Select(p => (ItemAdded)p.Message).ToList();
        Assert.Equal(2, events.Count);
        Assert.Equal((Filling.Meat, 1, 1L), (events[0].Filling, events[0].LineCount, events[0].Sequence)); // as committed, not recomputed
        Assert.Equal((Filling.Strawberry, 2, 2L), (events[1].Filling, events[1].LineCount, events[1].Sequence));
        Assert.Equal(_order.Store.Persisted.ProducerId, events[0].ProducerId);
    }

    [Fact]
    public async Task Should_never_publish_a_later_sequence_while_an_earlier_one_is_pending()
    {
        await _order.DeliverAsync(Add(Filling.Meat));
        _publisher.FailNext = true;
        await Assert.ThrowsAsync<IOException>(() => _order.DeliverAsync(Add(Filling.Mushrooms))); // #2 committed, its publish failed
        _publisher.FailNext = false;
        await _order.DeliverAsync(Add(Filling.Strawberry)); // #3: its dispatch must send #2 first

        Assert.Equal([1L, 2L, 3L], _publisher.Published.Select(p => p.Message.Sequence));
    }

    [Fact]
    public async Task Should_let_an_after_dispatch_fault_resend_with_the_same_id_and_billing_apply_it_once()
    {
        var billing = new ComponentHarness<BillData, BillingEvent>(BillingLogic.Instance, new FakePublisher(), new FakeFaults(), _clock);
        var add = Add(Filling.QuarkAndPotatoes);
        _faults.Decide = (point, _, _) => point == FaultPoints.AfterDispatch ? new SimulatedFaultException(point, "order", add.MessageId) : null;
        await Assert.ThrowsAsync<SimulatedFaultException>(() => _order.DeliverAsync(add));
        _faults.Decide = null;

        await _order.CrashAndRecoverAsync(); // the clear was deferred: storage still lists the message
        Assert.Equal(2, _publisher.Published.Count);
        Assert.Single(_publisher.Published.Select(p => p.Message.MessageId).Distinct());

        foreach (var (_, _, message) in _publisher.Published)
        {
            await billing.DeliverAsync((BillingEvent)message);
        }

        Assert.Single(billing.Processor.State.Data.Items);
        Assert.Equal(40m, billing.Processor.State.Data.Total);
    }

    [Fact]
    public async Task Should_not_acknowledge_and_should_deactivate_when_the_write_is_fenced()
    {
        var add = Add(Filling.Meat);
        _order.Store.FailNextWrite = FakeStore<OrderData>.Conflict();

        await Assert.ThrowsAsync<FencedActivationException>(() => _order.DeliverAsync(add));

        Assert.True(_order.Processor.IsBroken);
        Assert.Empty(_order.Store.Persisted.Data.Lines);
        Assert.Empty(_publisher.Published);
    }

    [Fact]
    public async Task Should_carry_the_delivery_mode_to_the_messages_it_causes()
    {
        await _order.DeliverAsync(new AddItem(Guid.NewGuid(), "o1", Filling.Meat, DeliveryMode.AtLeastOnce));
        Assert.Equal(DeliveryMode.AtLeastOnce, Assert.Single(_publisher.Published).Message.Mode);
    }

    [Fact]
    public async Task Should_duplicate_effects_at_least_once_and_lose_them_at_most_once_under_after_commit_faults()
    {
        var atLeast = new AddItem(Guid.NewGuid(), "o1", Filling.Meat, DeliveryMode.AtLeastOnce);
        _faults.ThrowOnceAt(FaultPoints.AfterCommit);
        await Assert.ThrowsAsync<SimulatedFaultException>(() => _order.DeliverAsync(atLeast));
        await _order.DeliverAsync(atLeast);
        Assert.Equal(2, _order.Processor.State.Data.Lines.Count); // handled twice
        Assert.Single(_publisher.Published);

        var atMost = new AddItem(Guid.NewGuid(), "o1", Filling.Mushrooms, DeliveryMode.AtMostOnce);
        _faults.ThrowOnceAt(FaultPoints.AfterCommit);
        Assert.Equal(ProcessOutcome.Lost, await _order.DeliverAsync(atMost)); // acknowledged anyway
        Assert.Equal(ProcessOutcome.Dropped, await _order.DeliverAsync(atMost));
        Assert.Equal(3, _order.Processor.State.Data.Lines.Count);
        Assert.Single(_publisher.Published); // the Mushrooms event never left
    }

    [Fact]
    public async Task Should_catch_a_duplicate_inside_the_retention_bound_and_forget_it_only_after()
    {
        var options = new MessagingOptions { InboxRetention = TimeSpan.FromHours(2) };
        var order = new ComponentHarness<OrderData, OrderCommand>(OrderLogic.Instance, _publisher, _faults, _clock, options);
        var add = Add(Filling.Meat);
        await order.DeliverAsync(add);

        _clock.Advance(TimeSpan.FromHours(2) - TimeSpan.FromSeconds(1));
        await order.DeliverAsync(Add(Filling.Strawberry)); // a write that prunes: the first id is still inside the bound
        Assert.Equal(ProcessOutcome.Duplicate, await order.DeliverAsync(add));

        _clock.Advance(TimeSpan.FromSeconds(2));
        await order.DeliverAsync(Add(Filling.Strawberry)); // now past the bound: pruned on this write
        Assert.DoesNotContain(order.Processor.State.Inbox, e => e.MessageId == add.MessageId);
        // The live activation forgets it too, as a fresh one reading storage would: past the window
        // it is applied again (the fallback's documented weakness, never silently different per activation).
        Assert.Equal(ProcessOutcome.Applied, await order.DeliverAsync(add));
    }

    [Fact]
    public async Task Should_keep_the_state_of_one_grain_under_8_KB_after_10000_messages()
    {
        // The real order logic, adds and removes alternating (so the business data stays small),
        // one message a minute and a 2-hour retention: at most 121 ids are inside the bound.
        var options = new MessagingOptions { InboxRetention = TimeSpan.FromHours(2) };
        var order = new ComponentHarness<OrderData, OrderCommand>(OrderLogic.Instance, _publisher, _faults, _clock, options);
        var largest = 0;
        for (var i = 0; i < 10_000; i++)
        {
            OrderCommand command = i % 2 == 0
                ? new AddItem(Guid.NewGuid(), "o1", Filling.Meat)
                : new RemoveItem(Guid.NewGuid(), "o1", Filling.Meat);
            await order.DeliverAsync(command);
            _clock.Advance(TimeSpan.FromMinutes(1));
            largest = Math.Max(largest, StateSerializer.Serialize(order.Store.Persisted).Length);
        }

        _output.WriteLine($"after 10,000 messages: inbox {order.Processor.State.Inbox.Count} ids, largest persisted state {largest} bytes");
        Assert.Equal(10_000, _publisher.Published.Count);
        Assert.True(order.Processor.State.Inbox.Count <= 121, $"inbox holds {order.Processor.State.Inbox.Count} ids");
        Assert.True(largest < 8 * 1024, $"largest persisted state was {largest} bytes");
    }

    [Fact]
    public async Task Should_refuse_messages_rather_than_forget_ids_when_the_inbox_is_full()
    {
        var options = new MessagingOptions { MaxInboxEntries = 3 };
        var order = new ComponentHarness<OrderData, OrderCommand>(OrderLogic.Instance, _publisher, _faults, _clock, options);
        var first = Add(Filling.Meat);
        await order.DeliverAsync(first);
        await order.DeliverAsync(Add(Filling.Meat));
        await order.DeliverAsync(Add(Filling.Meat));

        await Assert.ThrowsAsync<InboxFullException>(() => order.DeliverAsync(Add(Filling.Meat)));
        Assert.Equal(ProcessOutcome.Duplicate, await order.DeliverAsync(first));
        Assert.Equal(3, order.Processor.State.Data.Lines.Count);
    }
}
