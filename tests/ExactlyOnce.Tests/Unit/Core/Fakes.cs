using ExactlyOnce.Grains.Messages;
using ExactlyOnce.Messaging;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;

namespace ExactlyOnce.Tests.Core;

/// <summary>Orleans' own serializer, to copy state the way storage does and to measure its size.</summary>
public static class StateSerializer
{
    /// <summary>The serializer itself, with the codecs of the grains and their messages.</summary>
    public static Serializer Instance => Serializer;

    private static readonly Serializer Serializer = new ServiceCollection()
        .AddSerializer(b => b.AddAssembly(typeof(ComponentState<>).Assembly).AddAssembly(typeof(IMessage).Assembly))
        .BuildServiceProvider()
        .GetRequiredService<Serializer>();

    public static byte[] Serialize<T>(T value) => Serializer.SerializeToArray(value);

    public static T Copy<T>(T value) => Serializer.Deserialize<T>(Serialize(value))!;
}

/// <summary>A grain state store in memory: keeps a persisted copy (what a crash leaves) and an ETag.</summary>
public sealed class FakeStore<TData> : IStateStore<ComponentState<TData>> where TData : class, new()
{
    public ComponentState<TData> State { get; set; } = new();

    /// <summary>What storage holds.</summary>
    public ComponentState<TData> Persisted { get; private set; } = new();

    public int Writes { get; private set; }

    /// <summary>When set, the next write fails with this exception (and stores nothing).</summary>
    public Exception? FailNextWrite { get; set; }

    /// <summary>Sees every state stored (kept across a reload, like the storage).</summary>
    public Action<ComponentState<TData>>? OnWrite { get; init; }

    public Task WriteAsync()
    {
        if (FailNextWrite is { } failure)
        {
            FailNextWrite = null;
            throw failure;
        }

        Persisted = StateSerializer.Copy(State);
        Writes++;
        OnWrite?.Invoke(Persisted);
        return Task.CompletedTask;
    }

    /// <summary>A new activation reads what storage holds.</summary>
    public FakeStore<TData> Reload() => new() { State = StateSerializer.Copy(Persisted), Persisted = Persisted, Writes = Writes, OnWrite = OnWrite };

    public static Exception Conflict() => new InconsistentStateException("etag mismatch", "1", "2");
}

/// <summary>Records published messages (and the trace context each went out with); can fail the next publish.</summary>
public sealed class FakePublisher : IMessagePublisher
{
    public List<(string Namespace, string Key, IMessage Message)> Published { get; } = [];

    /// <summary>The <c>traceparent</c> and send time each published message went out with, by message id (the last copy's).</summary>
    public Dictionary<Guid, (string? TraceParent, DateTime? SentUtc)> Contexts { get; } = [];

    public Action<(string Namespace, string Key, IMessage Message)>? OnPublish { get; set; }

    public bool FailNext { get; set; }

    public Task PublishAsync(string streamNamespace, string streamKey, IMessage message, string? traceParent, DateTime? sentUtc)
    {
        if (FailNext)
        {
            FailNext = false;
            throw new IOException("stream unavailable");
        }

        var copy = (streamNamespace, streamKey, StateSerializer.Copy(message));
        Published.Add(copy);
        Contexts[message.MessageId] = (traceParent, sentUtc);
        OnPublish?.Invoke(copy);
        return Task.CompletedTask;
    }
}

/// <summary>Fires a scripted fault once at a point, or faults at random with a seed.</summary>
public sealed class FakeFaults : IFaultInjector
{
    private readonly Queue<string> _scripted = new();

    public Func<string, string, Guid, Exception?>? Decide { get; set; }

    public void ThrowOnceAt(string point) => _scripted.Enqueue(point);

    /// <summary>Throws at the point on each of the next <paramref name="times"/> passes (one delivery with its immediate retries is 3 passes by default).</summary>
    public void ThrowAt(string point, int times)
    {
        for (var i = 0; i < times; i++)
        {
            _scripted.Enqueue(point);
        }
    }

    public void At(string point, string component, Guid messageId)
    {
        if (_scripted.TryPeek(out var next) && next == point)
        {
            _scripted.Dequeue();
            throw new SimulatedFaultException(point, component, messageId);
        }

        if (Decide?.Invoke(point, component, messageId) is { } failure)
        {
            throw failure;
        }
    }
}

public sealed class FakeReminder : IOutboxReminder
{
    public bool Registered { get; private set; }

    public Task RegisterAsync()
    {
        Registered = true;
        return Task.CompletedTask;
    }

    public Task UnregisterAsync()
    {
        Registered = false;
        return Task.CompletedTask;
    }
}

/// <summary>The grain timer of delayed retries: remembers the earliest due time asked for.</summary>
public sealed class FakeRetryTimer : IRetryTimer
{
    public DateTime? Due { get; private set; }

    public List<DateTime> Requested { get; } = [];

    public void WakeAt(DateTime dueUtc)
    {
        Requested.Add(dueUtc);
        if (Due is null || dueUtc < Due)
        {
            Due = dueUtc;
        }
    }

    /// <summary>The timer fires: it is gone until asked for again.</summary>
    public DateTime? TakeDue()
    {
        var due = Due;
        Due = null;
        return due;
    }
}

/// <summary>A clock the test moves by hand.</summary>
public sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = start;

    public override DateTimeOffset GetUtcNow() => Now;

    public void Advance(TimeSpan by) => Now += by;
}

/// <summary>The incarnation counter: one number per call, never twice (shared by all components of a test, like the database sequence).</summary>
internal sealed class FakeIncarnations : IProducerIncarnations
{
    private long _last;

    public Task<long> NextAsync() => Task.FromResult(Interlocked.Increment(ref _last));
}

/// <summary>The parking table in memory, keyed (receiver, producer, sequence); survives crashes like the database.</summary>
internal sealed class FakeParkingLot : IParkingLot
{
    public SortedDictionary<(string Receiver, string Producer, long Sequence), HeldMessage> Rows { get; } = [];

    public Task<ParkResult> ParkAsync(string receiver, HeldMessage parked)
    {
        var message = parked.Message;
        var key = (receiver, message.ProducerId!, message.Sequence);
        if (Rows.TryGetValue(key, out var existing))
        {
            return Task.FromResult(existing.Message.MessageId == message.MessageId ? ParkResult.AlreadyParked : ParkResult.Conflict);
        }

        Rows[key] = StateSerializer.Copy(parked);
        return Task.FromResult(ParkResult.Parked);
    }

    public Task<IReadOnlyList<HeldMessage>> ReadAsync(string receiver, string producerId, long afterSequence, int limit) =>
        Task.FromResult<IReadOnlyList<HeldMessage>>([.. Rows
            .Where(r => r.Key.Receiver == receiver && r.Key.Producer == producerId && r.Key.Sequence > afterSequence)
            .Take(limit)
            .Select(r => r.Value)]);

    public Task RemoveAsync(string receiver, string producerId, long throughSequence, IReadOnlyCollection<long> sequences)
    {
        foreach (var key in Rows.Keys.Where(k => k.Receiver == receiver && k.Producer == producerId && (k.Sequence <= throughSequence || sequences.Contains(k.Sequence))).ToList())
        {
            Rows.Remove(key);
        }

        return Task.CompletedTask;
    }
}

/// <summary>Rejected messages, as the dead-letter table would hold them (idempotent per message and reason).</summary>
internal sealed class FakeDeadLetters : IDeadLetterSink
{
    public List<RejectedMessage> Rejected { get; } = [];

    public List<SequencedDeadLetter> DeadLettered { get; } = [];

    public Task DeadLetterAsync(SequencedDeadLetter letter)
    {
        if (!DeadLettered.Exists(d => d.Message.ProducerId == letter.Message.ProducerId && d.Message.Sequence == letter.Message.Sequence))
        {
            DeadLettered.Add(letter);
        }

        return Task.CompletedTask;
    }

    public Task RejectAsync(RejectedMessage message)
    {
        if (!Rejected.Exists(r => r.MessageId == message.MessageId && r.Reason == message.Reason))
        {
            Rejected.Add(message);
        }

        return Task.CompletedTask;
    }
}
