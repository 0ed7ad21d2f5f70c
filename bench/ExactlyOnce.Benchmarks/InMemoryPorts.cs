using System.Diagnostics.Metrics;
using ExactlyOnce.Diagnostics;
using ExactlyOnce.Grains.Messages;
using ExactlyOnce.Messaging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ExactlyOnce.Benchmarks;

/// <summary>
/// The processor's ports in memory, as cheap as they can be, so a benchmark measures the core and
/// not its fakes: a write stores nothing (or only serializes, see <see cref="SerializingStore{TData}"/>),
/// a publish is counted, and the ports a benchmark must never reach (parking, dead letters) throw.
/// </summary>
public sealed class MemoryStore<TData> : IStateStore<ComponentState<TData>> where TData : class, new()
{
    public ComponentState<TData> State { get; set; } = new();

    public long Writes { get; private set; }

    public Task WriteAsync()
    {
        Writes++;
        return Task.CompletedTask;
    }
}

/// <summary>A store whose write serializes the state the way grain storage does (and keeps only the size).</summary>
public sealed class SerializingStore<TData>(Orleans.Storage.IGrainStorageSerializer serializer) : IStateStore<ComponentState<TData>> where TData : class, new()
{
    public ComponentState<TData> State { get; set; } = new();

    public int LastBytes { get; private set; }

    public Task WriteAsync()
    {
        LastBytes = serializer.Serialize(State).ToMemory().Length;
        return Task.CompletedTask;
    }
}

public sealed class CountingPublisher : IMessagePublisher
{
    public long Published { get; private set; }

    public Task PublishAsync(string streamNamespace, string streamKey, IMessage message, string? traceParent, DateTime? sentUtc)
    {
        Published++;
        return Task.CompletedTask;
    }
}

public sealed class NoFaults : IFaultInjector
{
    public void At(string point, string component, Guid messageId)
    {
    }
}

public sealed class NoReminder : IOutboxReminder
{
    public Task RegisterAsync() => Task.CompletedTask;

    public Task UnregisterAsync() => Task.CompletedTask;
}

internal sealed class CountingIncarnations : IProducerIncarnations
{
    private long _last;

    public Task<long> NextAsync() => Task.FromResult(++_last);
}

public sealed class NoRetryTimer : IRetryTimer
{
    public void WakeAt(DateTime dueUtc)
    {
    }
}

/// <summary>The benchmarks keep the hold-back buffer below its bound: parking would be a setup mistake.</summary>
internal sealed class NoParking : IParkingLot
{
    public Task<ParkResult> ParkAsync(string receiver, HeldMessage message) =>
        throw new InvalidOperationException($"benchmark parked {message.Message.ProducerId} #{message.Sequence}: the buffer was not meant to fill");

    public Task<IReadOnlyList<HeldMessage>> ReadAsync(string receiver, string producerId, long afterSequence, int limit) =>
        Task.FromResult<IReadOnlyList<HeldMessage>>([]);

    public Task RemoveAsync(string receiver, string producerId, long throughSequence, IReadOnlyCollection<long> sequences) => Task.CompletedTask;
}

/// <summary>Every benchmark message is valid: a rejection would be a setup mistake.</summary>
internal sealed class NoDeadLetters : IDeadLetterSink
{
    public Task RejectAsync(RejectedMessage message) =>
        throw new InvalidOperationException($"benchmark message {message.MessageId} rejected: {message.Reason}");

    public Task DeadLetterAsync(SequencedDeadLetter letter) =>
        throw new InvalidOperationException($"benchmark message {letter.Message.MessageId} dead-lettered: {letter.Failure.Reason}");
}

/// <summary>The smallest business data: how many messages were applied.</summary>
public sealed class Tally
{
    public long Applied { get; set; }

    public static Tally Clone(Tally tally) => new() { Applied = tally.Applied };
}

/// <summary>A handler that does next to nothing, so dedup and hold-back are what is measured; it still runs the common checks.</summary>
internal sealed class TallyHandler(string key) : IMessageHandler<Tally>
{
    public string? Validate(IMessage message) => MessageChecks.Common(message, key);

    public Tally Handle(Tally data, IMessage message, OutgoingMessages outgoing)
    {
        data.Applied++;
        return data;
    }

    public Task RejectAsync(IMessage message, string input, string reason) =>
        throw new InvalidOperationException($"benchmark message {message.MessageId} rejected: {reason}");

    public Task DeadLetterAsync(IMessage message, string input, FailureRecord failure, MessageOrigin origin) =>
        throw new InvalidOperationException($"benchmark message {message.MessageId} dead-lettered: {failure.Reason}");
}

/// <summary>Builds processors on the in-memory ports with the default options.</summary>
internal static class InMemoryProcessor
{
    /// <summary>The instruments, as a silo has them (nothing listens in a benchmark unless a profiler does).</summary>
    private static readonly MessagingMetrics Metrics = new(new Meter(ExactlyOnceNames.Meter), TimeProvider.System);

    public static MessageProcessor<TData> Create<TData>(
        ComponentIdentity identity, IStateStore<ComponentState<TData>> store, IMessageHandler<TData> handler, Func<TData, TData> clone)
        where TData : class, new() =>
        new(identity, store, handler, clone, new ProcessorPorts(
            new CountingPublisher(),
            new NoFaults(),
            new NoReminder(),
            new CountingIncarnations(),
            new NoParking(),
            new NoRetryTimer(),
            TimeProvider.System,
            new MessagingOptions(),
            NullLogger.Instance,
            Metrics));

    /// <summary>A processor of the tally handler, as component <c>order</c> with key <c>o1</c> sending nothing.</summary>
    public static MessageProcessor<Tally> Tally(MemoryStore<Tally> store) =>
        Create(new ComponentIdentity("order", Key, new HashSet<string>(), new InputChannels(["orders"])), store, new TallyHandler(Key), Benchmarks.Tally.Clone);

    public const string Key = "o1";

    /// <summary>An exactly-once command numbered <paramref name="sequence"/> by <paramref name="producerId"/>.</summary>
    public static IMessage Command(string producerId, long sequence, Filling filling = Filling.Meat) =>
        new AddItem(Guid.NewGuid(), Key, filling).WithSequence(producerId, sequence);
}
