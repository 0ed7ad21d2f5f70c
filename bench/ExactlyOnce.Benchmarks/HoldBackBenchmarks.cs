using BenchmarkDotNet.Attributes;
using ExactlyOnce.Grains.Messages;
using ExactlyOnce.Messaging;

namespace ExactlyOnce.Benchmarks;

/// <summary>
/// The hold-back buffer of one producer holding <see cref="Held"/> early arrivals (sequences 2 ..
/// Held + 1, the mark at 0), with the counting handler: one more early arrival added to it, and the
/// gap (sequence 1) filling so that the whole run is applied. Each benchmark puts the buffer back
/// (the undo is measured too: a list remove, or a mark reset and an AddRange of the held records).
/// </summary>
[Config(typeof(ShortThroughputConfig))]
public class HoldBackBenchmarks
{
    private MessageProcessor<Tally> _processor = null!;
    private ProducerProgress _progress = null!;
    private HeldMessage[] _held = [];
    private IMessage _gap = null!;
    private IMessage _next = null!;

    /// <summary>Early arrivals in the buffer; 63 is the most that leaves room for one more under the default bound of 64.</summary>
    [Params(1, 16, 63)]
    public int Held { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var store = new MemoryStore<Tally>();
        var producer = ProducerIds.Client("cli", 1);
        _held = [.. Enumerable.Range(2, Held).Select(s => new HeldMessage(s, InMemoryProcessor.Command(producer, s), 0, null))];
        _progress = new ProducerProgress { Mark = 0, Held = [.. _held] };
        store.State.Producers[producer] = _progress;
        _gap = InMemoryProcessor.Command(producer, 1);
        _next = InMemoryProcessor.Command(producer, Held + 2);
        _processor = InMemoryProcessor.Tally(store);

        Expect.Outcome(ProcessOutcome.Held, HoldOneMore());
        Expect.That(_progress.Held.Count == Held, "the buffer is back to its size after a hold");
        Expect.Outcome(ProcessOutcome.Applied, FillGap());
        Expect.That(store.State.Data.Applied == Held + 1, $"the gap and the {Held} held messages applied");
        Expect.That(_progress.Mark == 0 && _progress.Held.Count == Held, "the buffer is back after a release");
    }

    /// <summary>The next early arrival (sequence Held + 2): placed at the end of the buffer and committed; then taken out again.</summary>
    [Benchmark]
    public async Task<ProcessOutcome> HoldOneMore()
    {
        var outcome = await _processor.ProcessAsync(_next);
        _progress.Held.RemoveAt(_progress.Held.Count - 1);
        return outcome;
    }

    /// <summary>Sequence 1 arrives: applied, then the Held messages behind it are applied one by one, each with its own commit; then the buffer is refilled.</summary>
    [Benchmark]
    public async Task<ProcessOutcome> FillGap()
    {
        var outcome = await _processor.ProcessAsync(_gap);
        _progress.Mark = 0;
        _progress.Held.AddRange(_held);
        return outcome;
    }
}
