using System.Diagnostics;
using System.Diagnostics.Metrics;
using ExactlyOnce.Faults;
using ExactlyOnce.Grains.Messages;
using ExactlyOnce.Grains.Orders;
using ExactlyOnce.Messaging;

namespace ExactlyOnce.Tests.Core;

/// <summary>
/// A message applied later than it arrived (held until the gap fills, parked when the buffer is
/// full, or kept for a delayed retry) is still its own: its latency is measured from its own send,
/// and it is applied in a span of its own trace (a child of its send, linked to the delivery that
/// released it), so the messages it sends continue that trace.
/// </summary>
[Trait("Kind", "Unit")]
public sealed class HeldMessageOriginTests : IDisposable
{
    private const string Client = "client/cli/7";
    private const string Latency = "exactlyonce.message.latency";

    private readonly FakePublisher _events = new();
    private readonly FakeFaults _faults = new();
    private readonly ManualClock _clock = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly ComponentHarness<OrderData, OrderCommand> _order;
    private readonly MeterListener _meters = new();
    private readonly ActivityListener _spans;
    private readonly List<(double Seconds, Dictionary<string, object?> Tags)> _latencies = [];
    private readonly List<Activity> _stopped = [];

    public HeldMessageOriginTests()
    {
        // One early arrival fits in the buffer: the next one is parked.
        _order = new ComponentHarness<OrderData, OrderCommand>(OrderLogic.Instance, _events, _faults, _clock, new MessagingOptions { MaxHeldPerProducer = 1 });
        _meters.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, _order.Metrics.Meter) && instrument.Name == Latency)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _meters.SetMeasurementEventCallback<double>((_, value, tags, _) => _latencies.Add((value, tags.ToArray().ToDictionary(t => t.Key, t => t.Value))));
        _meters.Start();
        _spans = new ActivityListener
        {
            ShouldListenTo = source => source.Name == ExactlyOnceNames.ActivitySource,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = span =>
            {
                lock (_stopped)
                {
                    _stopped.Add(span);
                }
            },
        };
        ActivitySource.AddActivityListener(_spans);
    }

    public void Dispose()
    {
        _meters.Dispose();
        _spans.Dispose();
    }

    private static IMessage Add(long sequence) => new AddItem(Guid.NewGuid(), "o1", Filling.Meat).WithSequence(Client, sequence);

    /// <summary>A send span of a trace of its own, now: the origin its message arrives with.</summary>
    private (MessageOrigin Origin, ActivityContext Send) SentNow()
    {
        var send = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded);
        return (new MessageOrigin($"00-{send.TraceId}-{send.SpanId}-01", _clock.Now.UtcDateTime), send);
    }

    /// <summary>The process spans of the trace (other tests' spans are in other traces).</summary>
    private List<Activity> ProcessSpansOf(ActivityContext send)
    {
        lock (_stopped)
        {
            return [.. _stopped.Where(s => s.TraceId == send.TraceId && s.DisplayName == "order process")];
        }
    }

    /// <summary>Asserts that <paramref name="message"/> was applied in its own trace: one process span, a child of its send, and its message to billing sent from that span.</summary>
    private Activity AssertAppliedInItsOwnTrace(IMessage message, ActivityContext send)
    {
        var span = Assert.Single(ProcessSpansOf(send));
        Assert.Equal((send.SpanId, ActivityKind.Consumer), (span.ParentSpanId, span.Kind));
        Assert.Equal(("Applied", message.Sequence), (span.GetTagItem("exactlyonce.outcome"), span.GetTagItem("exactlyonce.sequence")));
        var toBilling = MessageIds.Derive(message.MessageId, "order", 0);
        Assert.Equal(span.Id, _events.Contexts[toBilling].TraceParent);
        return span;
    }

    [Fact]
    public async Task Should_measure_a_message_applied_on_arrival_from_its_send()
    {
        var (origin, _) = SentNow();
        _clock.Advance(TimeSpan.FromMilliseconds(250));

        Assert.Equal(ProcessOutcome.Applied, await _order.DeliverAsync(Add(1), origin));

        var (seconds, tags) = Assert.Single(_latencies);
        Assert.Equal((0.25, "order"), (seconds, tags["component"]));
    }

    [Fact]
    public async Task Should_measure_a_held_message_from_its_own_send_once_the_gap_fills()
    {
        var (early, _) = SentNow();
        Assert.Equal(ProcessOutcome.Held, await _order.DeliverAsync(Add(2), early));
        Assert.Empty(_latencies);
        _clock.Advance(TimeSpan.FromSeconds(5));

        var (first, _) = SentNow();
        Assert.Equal(ProcessOutcome.Applied, await _order.DeliverAsync(Add(1), first));

        // #1 at once, #2 after the 5 s it was held.
        Assert.Equal([0.0, 5.0], _latencies.Select(l => l.Seconds).Order());
    }

    [Fact]
    public async Task Should_apply_a_held_message_in_a_span_of_its_own_trace_linked_to_the_delivery_that_released_it()
    {
        var held = Add(2);
        var (early, send) = SentNow();
        await _order.DeliverAsync(held, early);

        var (first, _) = SentNow();
        ActivityContext releasing;
        using (var delivery = new Activity("order process #1").Start())
        {
            releasing = delivery.Context;
            await _order.DeliverAsync(Add(1), first);
        }

        var span = AssertAppliedInItsOwnTrace(held, send);
        Assert.Equal(releasing.SpanId, Assert.Single(span.Links).Context.SpanId);
    }

    [Fact]
    public async Task Should_keep_a_held_messages_origin_in_the_stored_state()
    {
        var held = Add(2);
        var (early, send) = SentNow();
        await _order.DeliverAsync(held, early);
        _clock.Advance(TimeSpan.FromSeconds(3));

        await _order.CrashAndRecoverAsync();
        await _order.DeliverAsync(Add(1), SentNow().Origin);

        AssertAppliedInItsOwnTrace(held, send);
        Assert.Contains(3.0, _latencies.Select(l => l.Seconds));
    }

    [Fact]
    public async Task Should_trace_and_measure_a_parked_message_as_its_own()
    {
        await _order.DeliverAsync(Add(2), SentNow().Origin);
        var parked = Add(3);
        var (late, send) = SentNow();
        Assert.Equal(ProcessOutcome.Parked, await _order.DeliverAsync(parked, late));
        Assert.Single(_order.Parking.Rows);
        _clock.Advance(TimeSpan.FromSeconds(7));

        await _order.DeliverAsync(Add(1), SentNow().Origin);

        Assert.Empty(_order.Parking.Rows);
        AssertAppliedInItsOwnTrace(parked, send);
        Assert.Equal([0.0, 7.0, 7.0], _latencies.Select(l => l.Seconds).Order());
    }

    [Fact]
    public async Task Should_trace_and_measure_a_delayed_retry_from_its_own_send()
    {
        // Two immediate retries, then a transient failure is retried later (1 s).
        _faults.ThrowAt(FaultPoints.BeforeCommit, 3);
        var failing = Add(1);
        var (origin, send) = SentNow();
        Assert.Equal(ProcessOutcome.Delayed, await _order.DeliverAsync(failing, origin));

        await _order.RetryDueAsync();

        var span = AssertAppliedInItsOwnTrace(failing, send);
        Assert.Empty(span.Links); // the timer's pass has no span to link to
        Assert.Equal([1.0], _latencies.Select(l => l.Seconds));
    }

    [Fact]
    public async Task Should_keep_the_origin_of_a_message_it_dead_letters()
    {
        _faults.Decide = (point, component, id) => point == FaultPoints.BeforeCommit ? new PoisonFaultException(point, component, id) : null;
        var (origin, _) = SentNow();
        await _order.DeliverAsync(Add(1), origin);
        while (_order.DeadLetters.DeadLettered.Count == 0)
        {
            await _order.RetryDueAsync();
        }

        // A replay can continue the trace it was sent in.
        Assert.Equal(origin, Assert.Single(_order.DeadLetters.DeadLettered).Origin);
        Assert.Empty(_latencies);
    }
}
