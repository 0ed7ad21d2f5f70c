using ExactlyOnce.Faults;
using ExactlyOnce.Grains.Messages;
using ExactlyOnce.Messaging;
using ExactlyOnce.Grains.Orders;

namespace ExactlyOnce.Tests.Core;

/// <summary>The recoverability policy as the receiver runs it, with the default options: what is retried, kept, delayed and dead-lettered.</summary>
[Trait("Kind", "Unit")]
public sealed class RecoverabilityTests
{
    private const string Client = "client/cli/7";
    private const string Other = "client/other/8";

    private readonly FakeFaults _faults = new();
    private readonly ManualClock _clock = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly ComponentHarness<OrderData, OrderCommand> _order;

    public RecoverabilityTests() => _order = new(OrderLogic.Instance, new FakePublisher(), _faults, _clock);

    private static IMessage Add(long sequence, Filling filling = Filling.Meat, string producer = Client) =>
        new AddItem(Guid.NewGuid(), "o1", filling).WithSequence(producer, sequence);

    private ProducerProgress Progress(string producer = Client) => _order.Store.Persisted.Producers[producer];

    private void FailAt(string point, Func<Guid, Exception?> failure) =>
        _faults.Decide = (p, _, id) => p == point ? failure(id) : null;

    [Fact]
    public async Task Should_retry_a_poison_message_then_dead_letter_it_and_apply_it_once_when_replayed_after_the_fix()
    {
        var poison = Add(1);
        var next = Add(2, Filling.Strawberry);
        FailAt(FaultPoints.BeforeCommit, id => id == poison.MessageId ? new PoisonFaultException(FaultPoints.BeforeCommit, "order", id) : null);

        Assert.Equal(ProcessOutcome.Delayed, await _order.DeliverAsync(poison));
        Assert.Equal(ProcessOutcome.Held, await _order.DeliverAsync(next));   // waits behind it
        var kept = Progress().Held[0];
        Assert.Equal((1L, 3), (kept.Sequence, kept.Failures));                // the delivery and its two immediate retries
        Assert.Equal(_clock.Now.UtcDateTime.AddSeconds(5), kept.DueUtc);

        var start = _clock.Now.UtcDateTime;
        await _order.RetryDueAsync();                                         // failure 4, next in 10 s
        Assert.Equal(start.AddSeconds(5 + 10), Progress().Held[0].DueUtc);
        await _order.RetryDueAsync();                                         // failure 5, next in 20 s
        await _order.RetryDueAsync();                                         // failure 6: dead letter

        var letter = Assert.Single(_order.DeadLetters.DeadLettered);
        Assert.Equal((poison.MessageId, 6), (letter.Message.MessageId, letter.Failure.Failures));
        Assert.StartsWith("PoisonFaultException: simulated handler bug", letter.Failure.Reason);
        Assert.Equal((start, start.AddSeconds(35)), (letter.Failure.FirstFailureUtc, letter.Failure.LastFailureUtc));
        Assert.Equal(0, Progress().Mark);
        Assert.Equal([2L], Progress().Held.Select(h => h.Sequence));          // the producer's next one waits, visibly
        Assert.Null(_order.RetryTimer.Due);
        Assert.Empty(_order.Store.Persisted.Data.Lines);

        _faults.Decide = null;
        Assert.Equal(ProcessOutcome.Applied, await _order.DeliverAsync(letter.Message)); // the replay
        Assert.Equal([Filling.Meat, Filling.Strawberry], _order.Store.Persisted.Data.Lines);
        Assert.Equal(ProcessOutcome.Duplicate, await _order.DeliverAsync(letter.Message)); // a second replay
        Assert.Equal(2, _order.Store.Persisted.Data.Lines.Count);
    }

    [Fact]
    public async Task Should_keep_retrying_an_infrastructure_failure_for_as_long_as_it_lasts_and_apply_once_after()
    {
        var add = Add(1);
        FailAt(FaultPoints.BeforeCommit, id => new SimulatedFaultException(FaultPoints.BeforeCommit, "order", id));

        Assert.Equal(ProcessOutcome.Delayed, await _order.DeliverAsync(add));
        var start = _clock.Now;
        for (var retries = 0; _clock.Now - start < TimeSpan.FromMinutes(30); retries++)
        {
            Assert.True(retries < 1_000, "retried without waiting for the due time");
            await _order.RetryDueAsync();
        }

        var kept = Assert.Single(Progress().Held);
        Assert.True(kept.Failures > 60, $"{kept.Failures} failures in 30 min");
        Assert.Equal(TimeSpan.FromSeconds(30), kept.DueUtc - kept.LastFailureUtc); // capped
        Assert.Empty(_order.DeadLetters.DeadLettered);

        _faults.Decide = null;
        await _order.RetryDueAsync();
        Assert.Equal([Filling.Meat], _order.Store.Persisted.Data.Lines);
        Assert.Empty(Progress().Held);
        Assert.Equal(ProcessOutcome.Duplicate, await _order.DeliverAsync(add));
    }

    [Fact]
    public async Task Should_dead_letter_a_transient_failure_that_recurs_on_one_message_while_the_others_are_applied()
    {
        var stuck = Add(1);
        FailAt(FaultPoints.BeforeCommit, id => id == stuck.MessageId ? new TimeoutException("only this one") : null);
        Assert.Equal(ProcessOutcome.Delayed, await _order.DeliverAsync(stuck));

        for (var sequence = 1; _order.DeadLetters.DeadLettered.Count == 0; sequence++)
        {
            Assert.True(sequence < 200, "never dead-lettered");
            Assert.Equal(ProcessOutcome.Applied, await _order.DeliverAsync(Add(sequence, Filling.Mushrooms, Other)));
            await _order.RetryDueAsync();
        }

        var letter = Assert.Single(_order.DeadLetters.DeadLettered);
        Assert.True(letter.Failure.Failures > 20);
        Assert.True(letter.Failure.LastFailureUtc - letter.Failure.FirstFailureUtc >= TimeSpan.FromMinutes(5));
        Assert.Contains("while other messages were applied", letter.Failure.Reason);
    }

    [Fact]
    public async Task Should_apply_in_the_same_delivery_when_an_immediate_retry_succeeds()
    {
        _faults.ThrowAt(FaultPoints.BeforeCommit, 2);

        Assert.Equal(ProcessOutcome.Applied, await _order.DeliverAsync(Add(1)));
        Assert.Empty(Progress().Held);
        Assert.Null(_order.RetryTimer.Due);
        Assert.Single(_order.Store.Persisted.Data.Lines);
    }

    [Fact]
    public async Task Should_not_charge_a_failed_state_write_to_the_message()
    {
        _faults.ThrowAt(FaultPoints.BeforeCommit, 3);
        _order.Store.FailNextWrite = new TimeoutException("database gone"); // the write that would keep it for later

        await Assert.ThrowsAsync<StateWriteFailedException>(() => _order.DeliverAsync(Add(1)));
        Assert.True(_order.Processor.IsBroken);
        Assert.Empty(_order.Store.Persisted.Producers); // nothing counted: the stream brings it back
        Assert.Empty(_order.DeadLetters.DeadLettered);
    }

    [Fact]
    public async Task Should_not_count_a_failure_after_the_commit_against_the_message()
    {
        var add = Add(1);
        _faults.ThrowOnceAt(FaultPoints.AfterCommit);

        await Assert.ThrowsAsync<SimulatedFaultException>(() => _order.DeliverAsync(add)); // back to the stream
        Assert.Equal(1, Progress().Mark);
        Assert.Empty(Progress().Held);
        Assert.Equal(ProcessOutcome.Duplicate, await _order.DeliverAsync(add));
        Assert.Single(_order.Store.Persisted.Data.Lines);
    }
}
