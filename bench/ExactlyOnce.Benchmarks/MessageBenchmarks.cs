using BenchmarkDotNet.Attributes;
using ExactlyOnce.Grains;
using ExactlyOnce.Grains.Billing;
using ExactlyOnce.Grains.Messages;
using ExactlyOnce.Messaging;
using ExactlyOnce.Grains.Orders;
using ExactlyOnce.PostgreSql;
using ExactlyOnce.Silo.Storage;
using Orleans.Storage;

namespace ExactlyOnce.Benchmarks;

/// <summary>What a state write costs in these benchmarks.</summary>
public enum StateWrite
{
    /// <summary>Nothing: the core alone.</summary>
    None,

    /// <summary>The state serialized by the storage serializer (binary, the default), as a grain storage write does before its SQL.</summary>
    Binary,
}

/// <summary>
/// One message through the real order component (<see cref="OrderLogic"/> behind the processor, on
/// in-memory ports): an add and then a remove of the same filling from one client producer, in
/// order, to an order of 100 lines. Each applies its command, numbers one billing event, commits,
/// publishes it (at once) and removes it from the outbox. The pair leaves the lines as they were;
/// the mark is put back after it. Reported per message (two per invocation).
/// </summary>
[Config(typeof(ShortThroughputConfig))]
public class OrderMessageBenchmarks
{
    private const long Mark = 1_000;

    private StorageSerializers? _serializers;
    private MessageProcessor<OrderData> _processor = null!;
    private ProducerProgress _client = null!;
    private IMessage _add = null!;
    private IMessage _remove = null!;

    [Params(StateWrite.None, StateWrite.Binary)]
    public StateWrite Write { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var state = SampleStates.Order(100);
        var client = ProducerIds.Client("cli", 1);
        _client = new ProducerProgress { Mark = Mark };
        state.Producers[client] = _client;
        (_serializers, var store) = MessageStores.Create(Write, state);
        _processor = InMemoryProcessor.Create(
            new ComponentIdentity(OrderLogic.Instance.Component, InMemoryProcessor.Key, OrderLogic.Instance.OutputStreams, new InputChannels([OrderLogic.Instance.StreamNamespace])),
            store,
            new LogicHandler<OrderData, OrderCommand>(OrderLogic.Instance, InMemoryProcessor.Key, new NoDeadLetters()),
            OrderLogic.Instance.Clone);
        _add = new AddItem(Guid.NewGuid(), InMemoryProcessor.Key, Filling.Mushrooms) { SentAt = DateTime.UtcNow }.WithSequence(client, Mark + 1);
        _remove = new RemoveItem(Guid.NewGuid(), InMemoryProcessor.Key, Filling.Mushrooms) { SentAt = DateTime.UtcNow }.WithSequence(client, Mark + 2);

        var sequences = state.OutputSequences[$"{StreamNamespaces.Billing}/{InMemoryProcessor.Key}"];
        AddThenRemove().GetAwaiter().GetResult();
        var after = _processor.State;
        Expect.That(after.Data.Lines.Count == 100 && after.Outbox.Count == 0 && _client.Mark == Mark, "the order is back to 100 lines, outbox empty, mark put back");
        Expect.That(after.OutputSequences[$"{StreamNamespaces.Billing}/{InMemoryProcessor.Key}"] == sequences + 2, "two billing events numbered");
    }

    [GlobalCleanup]
    public void Cleanup() => _serializers?.Dispose();

    [Benchmark(OperationsPerInvoke = 2)]
    public async Task AddThenRemove()
    {
        Expect.That(await _processor.ProcessAsync(_add) == ProcessOutcome.Applied, "add applied");
        Expect.That(await _processor.ProcessAsync(_remove) == ProcessOutcome.Applied, "remove applied");
        _client.Mark = Mark;
    }
}

/// <summary>
/// One message through the real billing component (<see cref="BillingLogic"/>): an event in order
/// from the order's producer, applied to a bill of <see cref="Entries"/> entries (the handler copies
/// the bill, adds the entry), committed; then the entry is taken off again and the mark put back.
/// </summary>
[Config(typeof(ShortThroughputConfig))]
public class BillingMessageBenchmarks
{
    private StorageSerializers? _serializers;
    private MessageProcessor<BillData> _processor = null!;
    private ProducerProgress _order = null!;
    private IMessage _event = null!;
    private long _mark;

    [Params(100, 1_000)]
    public int Entries { get; set; }

    [Params(StateWrite.None, StateWrite.Binary)]
    public StateWrite Write { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var state = SampleStates.Bill(Entries);
        _order = state.Producers[SampleStates.OrderProducer];
        _mark = _order.Mark;
        (_serializers, var store) = MessageStores.Create(Write, state);
        _processor = InMemoryProcessor.Create(
            new ComponentIdentity(BillingLogic.Instance.Component, InMemoryProcessor.Key, BillingLogic.Instance.OutputStreams, new InputChannels([BillingLogic.Instance.StreamNamespace])),
            store,
            new LogicHandler<BillData, BillingEvent>(BillingLogic.Instance, InMemoryProcessor.Key, new NoDeadLetters()),
            BillingLogic.Instance.Clone);
        _event = new ItemAdded(Guid.NewGuid(), InMemoryProcessor.Key, Filling.Meat, Entries + 1, DeliveryMode.ExactlyOnce) { SentAt = DateTime.UtcNow }
            .WithSequence(SampleStates.OrderProducer, _mark + 1);

        var total = state.Data.Total;
        Apply().GetAwaiter().GetResult();
        var after = _processor.State;
        Expect.That(after.Data.Items.Count == Entries && after.Data.Total == total && _order.Mark == _mark, "the bill is back to its entries and total, mark put back");
    }

    [GlobalCleanup]
    public void Cleanup() => _serializers?.Dispose();

    [Benchmark]
    public async Task Apply()
    {
        Expect.That(await _processor.ProcessAsync(_event) == ProcessOutcome.Applied, "event applied");
        var bill = _processor.State.Data;
        var entry = bill.Items[^1];
        bill.Items.RemoveAt(bill.Items.Count - 1);
        bill.Total -= entry.Price;
        _order.Mark = _mark;
    }
}

/// <summary>The store of a full-message benchmark for a <see cref="StateWrite"/>.</summary>
internal static class MessageStores
{
    public static (StorageSerializers?, IStateStore<ComponentState<TData>>) Create<TData>(StateWrite write, ComponentState<TData> state) where TData : class, new()
    {
        if (write == StateWrite.None)
        {
            return (null, new MemoryStore<TData> { State = state });
        }

        var serializers = new StorageSerializers();
        IGrainStorageSerializer serializer = serializers.For(StateFormat.Binary);
        return (serializers, new SerializingStore<TData>(serializer) { State = state });
    }
}
