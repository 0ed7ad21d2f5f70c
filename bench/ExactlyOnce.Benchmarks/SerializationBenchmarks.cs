using BenchmarkDotNet.Attributes;
using ExactlyOnce.Grains.Billing;
using ExactlyOnce.Messaging;
using ExactlyOnce.Grains.Orders;
using ExactlyOnce.PostgreSql;
using ExactlyOnce.Silo.Storage;

namespace ExactlyOnce.Benchmarks;

/// <summary>
/// One state write's and one state read's serialization through the grain storage serializer
/// (<see cref="StateSerializer"/>) in each format: an order of 100 lines, and bills of 100 and
/// 1,000 entries, each a whole <see cref="ComponentState{TData}"/> as grain storage stores it.
/// </summary>
[Config(typeof(ShortThroughputConfig))]
public class SerializationBenchmarks
{
    private StorageSerializers _serializers = null!;
    private Func<BinaryData> _serialize = null!;
    private Func<object?> _deserialize = null!;

    [Params("order-100", "bill-100", "bill-1000")]
    public string State { get; set; } = "";

    [Params(StateFormat.Binary, StateFormat.Json)]
    public StateFormat Format { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _serializers = new StorageSerializers();
        var serializer = _serializers.For(Format);
        (_serialize, _deserialize) = State switch
        {
            "order-100" => Bind(serializer, SampleStates.Order(100)),
            "bill-100" => Bind(serializer, SampleStates.Bill(100)),
            "bill-1000" => Bind(serializer, SampleStates.Bill(1_000)),
            _ => throw new ArgumentOutOfRangeException(nameof(State), State, "unknown state"),
        };

        Expect.That(StateSerializer.IsBinary(Serialize().ToMemory().Span) == (Format == StateFormat.Binary), $"{Format} written");
        Expect.That(Deserialize() is not null, "the state read back");
    }

    [GlobalCleanup]
    public void Cleanup() => _serializers.Dispose();

    [Benchmark]
    public BinaryData Serialize() => _serialize();

    [Benchmark]
    public object? Deserialize() => _deserialize();

    private static (Func<BinaryData>, Func<object?>) Bind<TData>(StateSerializer serializer, ComponentState<TData> state) where TData : class, new()
    {
        var stored = serializer.Serialize(state);
        var read = serializer.Deserialize<ComponentState<TData>>(stored)!;
        Expect.That(Same(state, read), "the state read back equals the one written");
        return (() => serializer.Serialize(state), () => serializer.Deserialize<ComponentState<TData>>(stored));
    }

    private static bool Same<TData>(ComponentState<TData> written, ComponentState<TData> read) where TData : class, new() =>
        (written.Data, read.Data) switch
        {
            (OrderData a, OrderData b) => a.Lines.SequenceEqual(b.Lines),
            (BillData a, BillData b) => a.Items.SequenceEqual(b.Items) && a.Total == b.Total,
            _ => false,
        } && written.Producers.Keys.SequenceEqual(read.Producers.Keys);
}
