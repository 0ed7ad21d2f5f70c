using BenchmarkDotNet.Attributes;
using ExactlyOnce.Grains;
using ExactlyOnce.Grains.Messages;
using ExactlyOnce.Messaging;

namespace ExactlyOnce.Benchmarks;

/// <summary>
/// The outbox: a handler recording <see cref="Entries"/> outgoing messages (each with its id derived
/// from the incoming id: a SHA-256), and the processor sending a committed outbox of that many and
/// clearing what the stream confirmed (the recovery pass, <see cref="MessageProcessor{TData}.FlushOutboxAsync"/>,
/// with a publish that completes at once, then the write of the clear).
/// </summary>
[Config(typeof(ShortThroughputConfig))]
public class OutboxBenchmarks
{
    private IMessage _incoming = null!;
    private OutboxEntry[] _committed = [];
    private MessageProcessor<Tally> _processor = null!;
    private MemoryStore<Tally> _store = null!;

    [Params(1, 10, 1_000)]
    public int Entries { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _incoming = InMemoryProcessor.Command(ProducerIds.Client("cli", 1), 1);
        var recorded = new OutgoingMessages("order", _incoming);
        for (var i = 0; i < Entries; i++)
        {
            var lineCount = i + 1;
            recorded.Send(StreamNamespaces.Billing, InMemoryProcessor.Key, (id, mode) => new ItemAdded(id, InMemoryProcessor.Key, Filling.Meat, lineCount, mode));
        }

        var producer = ProducerIds.Grain("order", InMemoryProcessor.Key, 1);
        _committed = [.. recorded.Entries.Select((e, i) => e with { Payload = e.Payload.WithSequence(producer, i + 1) })];
        _store = new MemoryStore<Tally>();
        _processor = InMemoryProcessor.Tally(_store);

        Expect.That(Record() == Entries, "every outgoing message recorded");
        var writes = _store.Writes;
        DispatchAndClear().GetAwaiter().GetResult();
        Expect.That(_store.State.Outbox.Count == 0 && _store.Writes == writes + 1 && !_store.State.FlushReminderRegistered, "the outbox sent, cleared in one write, the reminder dropped");
    }

    /// <summary>What a handler does to send: ids derived, entries recorded in order.</summary>
    [Benchmark]
    public int Record()
    {
        var outgoing = new OutgoingMessages("order", _incoming);
        for (var i = 0; i < Entries; i++)
        {
            var lineCount = i + 1;
            outgoing.Send(StreamNamespaces.Billing, InMemoryProcessor.Key, (id, mode) => new ItemAdded(id, InMemoryProcessor.Key, Filling.Meat, lineCount, mode));
        }

        return outgoing.Entries.Count;
    }

    /// <summary>A committed outbox (refilled from the same entries) sent in order, each entry removed once confirmed, the clear written, the reminder dropped.</summary>
    [Benchmark]
    public Task DispatchAndClear()
    {
        var state = _store.State;
        state.Outbox.AddRange(_committed);
        state.FlushReminderRegistered = true;
        return _processor.FlushOutboxAsync();
    }
}
