using BenchmarkDotNet.Attributes;
using ExactlyOnce.Grains.Messages;
using ExactlyOnce.Messaging;

namespace ExactlyOnce.Benchmarks;

/// <summary>
/// What the processor decides about one incoming message, through <see cref="MessageProcessor{TData}.ProcessAsync"/>
/// with a handler that only counts, for a receiver that knows <see cref="Producers"/> producers (all
/// at mark 1,000) and as many unsequenced ids in its fallback set. Each benchmark leaves the state
/// as it found it (the undo is part of the measured time: a field write or a one-element list clear).
/// </summary>
[Config(typeof(ShortThroughputConfig))]
public class DedupBenchmarks
{
    private const long Mark = 1_000;

    private MessageProcessor<Tally> _processor = null!;
    private ProducerProgress _target = null!;
    private string _targetId = null!;
    private IMessage _duplicate = null!;
    private IMessage _inOrder = null!;
    private IMessage _ahead = null!;
    private IMessage _heldCopy = null!;
    private IMessage _unsequencedDuplicate = null!;

    /// <summary>Producers the receiver has a mark for (and unsequenced ids it remembers).</summary>
    [Params(10, 10_000)]
    public int Producers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var store = new MemoryStore<Tally>();
        var state = store.State;
        var now = DateTime.UtcNow;
        for (var i = 1; i <= Producers; i++)
        {
            state.Producers[ProducerIds.Run($"load-{i}", i)] = new ProducerProgress { Mark = Mark };
            state.Inbox.Add(new InboxEntry(Guid.NewGuid(), now));
        }

        // One more producer with an early arrival held (its mark + 2), waiting for mark + 1.
        var holder = ProducerIds.Client("cli", 1);
        _heldCopy = InMemoryProcessor.Command(holder, Mark + 2);
        state.Producers[holder] = new ProducerProgress { Mark = Mark, Held = [new HeldMessage(Mark + 2, _heldCopy, 0, null)] };

        _targetId = ProducerIds.Run($"load-{(Producers / 2) + 1}", (Producers / 2) + 1);
        _target = state.Producers[_targetId];
        _duplicate = InMemoryProcessor.Command(_targetId, Mark - 1);
        _inOrder = InMemoryProcessor.Command(_targetId, Mark + 1);
        _ahead = InMemoryProcessor.Command(_targetId, Mark + 2);
        _unsequencedDuplicate = new AddItem(state.Inbox[Producers / 2].MessageId, InMemoryProcessor.Key, Filling.Meat);
        _processor = InMemoryProcessor.Tally(store);

        // Each benchmark takes the path it is named after and leaves the state as it found it.
        Expect.Outcome(ProcessOutcome.Duplicate, Duplicate());
        Expect.Outcome(ProcessOutcome.Duplicate, DuplicateOfHeld());
        Expect.Outcome(ProcessOutcome.Duplicate, DuplicateUnsequenced());
        Expect.Outcome(ProcessOutcome.Held, Ahead());
        Expect.Outcome(ProcessOutcome.Applied, InOrder());
        Expect.That(_target.Mark == Mark && _target.Held.Count == 0 && MarkOf() == Mark, "the target producer is back at its mark with nothing held");
    }

    /// <summary>The lookup alone: the producer's mark (one dictionary lookup).</summary>
    [Benchmark(Baseline = true)]
    public long MarkOf() => _processor.MarkOf(_targetId);

    /// <summary>A copy at or below its producer's mark: not handled, pending outbox (empty) re-sent.</summary>
    [Benchmark]
    public Task<ProcessOutcome> Duplicate() => _processor.ProcessAsync(_duplicate);

    /// <summary>A copy of a message already held (acknowledged, waiting for its turn).</summary>
    [Benchmark]
    public Task<ProcessOutcome> DuplicateOfHeld() => _processor.ProcessAsync(_heldCopy);

    /// <summary>An unsequenced copy whose id is in the fallback set.</summary>
    [Benchmark]
    public Task<ProcessOutcome> DuplicateUnsequenced() => _processor.ProcessAsync(_unsequencedDuplicate);

    /// <summary>Ahead of its turn (mark + 2): committed to the hold-back buffer; then taken out again.</summary>
    [Benchmark]
    public async Task<ProcessOutcome> Ahead()
    {
        var outcome = await _processor.ProcessAsync(_ahead);
        _target.Held.Clear();
        return outcome;
    }

    /// <summary>Its turn (mark + 1): handled (the tally), committed, mark moved; then the mark is put back.</summary>
    [Benchmark]
    public async Task<ProcessOutcome> InOrder()
    {
        var outcome = await _processor.ProcessAsync(_inOrder);
        _target.Mark = Mark;
        return outcome;
    }
}
