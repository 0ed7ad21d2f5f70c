using ExactlyOnce.Faults;
using ExactlyOnce.Grains;
using ExactlyOnce.Grains.Messages;
using ExactlyOnce.Grains.Orders;
using ExactlyOnce.Messaging;

namespace ExactlyOnce.Tests.Core;

/// <summary>
/// A component with two input streams. A producer numbers its messages per destination stream, so
/// the same producer's #1 on each input are two different messages: each is applied once, in send
/// order within its stream, and held, parked, dead-lettered and retired under its own channel.
/// </summary>
[Trait("Kind", "Unit")]
public sealed class MultipleInputsTests
{
    private const string Main = StreamNamespaces.Orders;
    private const string Side = "orders/side@2"; // '/' and '@' in a namespace must not confuse the channel names
    private const string Client = "client/cli/7";

    private readonly FakePublisher _events = new();
    private readonly FakeFaults _faults = new();
    private readonly ManualClock _clock = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    private ComponentHarness<OrderData, OrderCommand> NewOrder(MessagingOptions? options = null) => new(TwoInputs.Instance, _events, _faults, _clock, options);

    private static IMessage Add(long sequence, Filling filling, string producer = Client) => new AddItem(Guid.NewGuid(), "o1", filling).WithSequence(producer, sequence);

    [Fact]
    public async Task Should_apply_the_same_producers_sequences_on_each_input_once()
    {
        var order = NewOrder();
        Assert.Equal(ProcessOutcome.Applied, await order.DeliverAsync(Add(1, Filling.Meat), Main));
        Assert.Equal(ProcessOutcome.Applied, await order.DeliverAsync(Add(1, Filling.SwissCheese), Side));
        Assert.Equal(ProcessOutcome.Applied, await order.DeliverAsync(Add(2, Filling.SwissCheese), Side));
        Assert.Equal(ProcessOutcome.Applied, await order.DeliverAsync(Add(2, Filling.Meat), Main));

        Assert.Equal([Filling.Meat, Filling.SwissCheese, Filling.SwissCheese, Filling.Meat], order.Store.Persisted.Data.Lines);
        var channels = order.Store.Persisted.Producers;
        Assert.Equal(2, channels[Client].Mark);
        Assert.Equal(2, channels[$"{Client}@orders%2Fside%402"].Mark);
        Assert.Equal(2, order.Processor.MarkOf(Client));
    }

    [Fact]
    public async Task Should_deduplicate_a_copy_on_its_own_input_also_when_it_comes_back_under_its_channel_name()
    {
        var order = NewOrder();
        var side = Add(1, Filling.SwissCheese);
        await order.DeliverAsync(side, Side);
        await order.DeliverAsync(Add(1, Filling.Meat), Main);

        Assert.Equal(ProcessOutcome.Duplicate, await order.DeliverAsync(side, Side));
        // A replayed dead letter or a parked copy carries the channel name already: renamed to the same channel.
        var renamed = side.WithSequence($"{Client}@orders%2Fside%402", 1);
        Assert.Equal(ProcessOutcome.Duplicate, await order.DeliverAsync(renamed, Side));
        Assert.Equal(2, order.Store.Persisted.Data.Lines.Count);
    }

    [Fact]
    public async Task Should_hold_an_early_arrival_on_one_input_without_blocking_the_other()
    {
        var order = NewOrder();
        Assert.Equal(ProcessOutcome.Held, await order.DeliverAsync(Add(2, Filling.SwissCheese), Side));
        Assert.Equal(ProcessOutcome.Applied, await order.DeliverAsync(Add(1, Filling.Meat), Main));
        Assert.Equal([Filling.Meat], order.Store.Persisted.Data.Lines);

        await order.CrashAndRecoverAsync();
        Assert.Equal(ProcessOutcome.Applied, await order.DeliverAsync(Add(1, Filling.Strawberry), Side));

        Assert.Equal([Filling.Meat, Filling.Strawberry, Filling.SwissCheese], order.Store.Persisted.Data.Lines);
    }

    [Fact]
    public async Task Should_park_and_unpark_under_the_channel_of_the_input()
    {
        var order = NewOrder(new MessagingOptions { MaxHeldPerProducer = 1 });
        await order.DeliverAsync(Add(1, Filling.Meat), Main);
        Assert.Equal(ProcessOutcome.Held, await order.DeliverAsync(Add(2, Filling.Mushrooms), Side));
        Assert.Equal(ProcessOutcome.Parked, await order.DeliverAsync(Add(3, Filling.Strawberry), Side));
        Assert.Equal([(TwoInputs.Receiver, $"{Client}@orders%2Fside%402", 3L)], order.Parking.Rows.Keys);

        Assert.Equal(ProcessOutcome.Applied, await order.DeliverAsync(Add(1, Filling.SwissCheese), Side));

        Assert.Equal([Filling.Meat, Filling.SwissCheese, Filling.Mushrooms, Filling.Strawberry], order.Store.Persisted.Data.Lines);
        Assert.Empty(order.Parking.Rows);
    }

    [Fact]
    public async Task Should_dead_letter_a_message_with_the_input_it_came_from()
    {
        var order = NewOrder();
        _faults.Decide = (point, component, id) => point == FaultPoints.BeforeCommit ? new PoisonFaultException(point, component, id) : null;
        Assert.Equal(ProcessOutcome.Delayed, await order.DeliverAsync(Add(1, Filling.SwissCheese), Side));
        while (order.DeadLetters.DeadLettered.Count == 0)
        {
            await order.RetryDueAsync();
        }

        var letter = Assert.Single(order.DeadLetters.DeadLettered);
        Assert.Equal(Side, letter.StreamNamespace);
        Assert.Equal($"{Client}@orders%2Fside%402", letter.Message.ProducerId);
    }

    [Fact]
    public async Task Should_retire_a_finished_run_on_every_input()
    {
        var order = NewOrder();
        var run = ProducerIds.Run("r1", 3);
        await order.DeliverAsync(Add(1, Filling.Meat, run), Main);
        await order.DeliverAsync(Add(1, Filling.SwissCheese, run), Side);
        Assert.Equal(2, order.Store.Persisted.Producers.Count);

        await order.Processor.RetireRunsAsync(3);

        Assert.Empty(order.Store.Persisted.Producers);
        Assert.Equal(ProcessOutcome.Duplicate, await order.DeliverAsync(Add(1, Filling.SwissCheese, run), Side));
        Assert.Equal(2, order.Store.Persisted.Data.Lines.Count);
    }

    [Fact]
    public void Should_read_the_incarnation_of_a_channel_name() =>
        Assert.Equal(7, ProducerIds.IncarnationOf($"{Client}@orders%2Fside%402"));

    [ImplicitStreamSubscription(Main)]
    private sealed class SubscribedToMainOnly;

    [ImplicitStreamSubscription(Main)]
    [ImplicitStreamSubscription(Side)]
    private sealed class SubscribedToBoth;

    [Fact]
    public void Should_refuse_inputs_a_grain_is_not_subscribed_to_or_that_do_not_start_with_its_stream()
    {
        Assert.Equal([Main, Side], MessagingComponent<OrderData, OrderCommand>.InputsOf(typeof(SubscribedToBoth), TwoInputs.Instance).Inputs);

        var missing = Assert.Throws<InvalidOperationException>(() => MessagingComponent<OrderData, OrderCommand>.InputsOf(typeof(SubscribedToMainOnly), TwoInputs.Instance));
        Assert.Equal($"component order: input stream '{Side}' has no [ImplicitStreamSubscription(\"{Side}\")] on SubscribedToMainOnly", missing.Message);

        var reversed = Assert.Throws<InvalidOperationException>(() => MessagingComponent<OrderData, OrderCommand>.InputsOf(typeof(SubscribedToBoth), new TwoInputs([Side, Main])));
        Assert.Equal($"component order: InputStreams must start with StreamNamespace '{Main}'", reversed.Message);

        var twice = Assert.Throws<InvalidOperationException>(() => MessagingComponent<OrderData, OrderCommand>.InputsOf(typeof(SubscribedToBoth), new TwoInputs([Main, Side, Side])));
        Assert.Equal($"component order: InputStreams names '{Side}' twice", twice.Message);
    }

    /// <summary>The order logic, consuming a second stream too.</summary>
    private sealed class TwoInputs(IReadOnlyList<string> inputs) : IComponentLogic<OrderData, OrderCommand>
    {
        public static readonly TwoInputs Instance = new([Main, Side]);

        public static string Receiver => "order/o1";

        public string Component => OrderLogic.Instance.Component;

        public string StreamNamespace => OrderLogic.Instance.StreamNamespace;

        public IReadOnlyList<string> InputStreams => inputs;

        public IReadOnlySet<string> OutputStreams => OrderLogic.Instance.OutputStreams;

        public OrderData Clone(OrderData data) => OrderLogic.Instance.Clone(data);

        public string? Validate(OrderCommand message, string streamKey) => OrderLogic.Instance.Validate(message, streamKey);

        public OrderData Handle(OrderData data, OrderCommand message, OutgoingMessages outgoing) => OrderLogic.Instance.Handle(data, message, outgoing);
    }
}
