using System.Diagnostics.Metrics;
using ExactlyOnce.Faults;
using ExactlyOnce.Grains.Messages;
using ExactlyOnce.Grains.Orders;
using ExactlyOnce.Messaging;

namespace ExactlyOnce.Tests.Core;

/// <summary>The core's instruments, heard through a listener on one component's own meter.</summary>
[Trait("Kind", "Unit")]
public sealed class MessagingMetricsTests : IDisposable
{
    private const string Client = "client/cli/7";

    private readonly FakePublisher _events = new();
    private readonly FakeFaults _faults = new();
    private readonly ManualClock _clock = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly ComponentHarness<OrderData, OrderCommand> _order;
    private readonly MeterListener _listener = new();
    private readonly List<(string Instrument, double Value, Dictionary<string, object?> Tags)> _measured = [];

    public MessagingMetricsTests()
    {
        _order = new ComponentHarness<OrderData, OrderCommand>(OrderLogic.Instance, _events, _faults, _clock);
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, _order.Metrics.Meter))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.Start();
    }

    public void Dispose() => _listener.Dispose();

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags) =>
        _measured.Add((instrument.Name, value, tags.ToArray().ToDictionary(t => t.Key, t => t.Value)));

    /// <summary>The sum of an instrument's measurements whose tags include <paramref name="tags"/> (for a depth: its current value).</summary>
    private double Sum(string instrument, params (string Key, string Value)[] tags) =>
        _measured.Where(m => m.Instrument == instrument && tags.All(t => Equals(m.Tags.GetValueOrDefault(t.Key), t.Value))).Sum(m => m.Value);

    private static IMessage Add(long sequence) => new AddItem(Guid.NewGuid(), "o1", Filling.Meat).WithSequence(Client, sequence);

    [Fact]
    public async Task Should_count_each_delivery_by_outcome_and_each_application_once()
    {
        var first = Add(1);
        await _order.DeliverAsync(Add(2));      // held
        await _order.DeliverAsync(first);       // applied, and #2 after it
        await _order.DeliverAsync(first);       // duplicate

        Assert.Equal(1, Sum("exactlyonce.messages.received", ("outcome", "held"), ("component", "order"), ("mode", "exactly_once")));
        Assert.Equal(1, Sum("exactlyonce.messages.received", ("outcome", "applied")));
        Assert.Equal(1, Sum("exactlyonce.messages.received", ("outcome", "duplicate")));
        Assert.Equal(2, Sum("exactlyonce.messages.applied", ("component", "order"), ("mode", "exactly_once")));
    }

    [Fact]
    public async Task Should_show_held_messages_and_blocked_producers_until_the_gap_fills()
    {
        await _order.DeliverAsync(Add(3));
        await _order.DeliverAsync(Add(2));
        Assert.Equal(2, Sum("exactlyonce.holdback.depth", ("component", "order")));
        Assert.Equal(1, Sum("exactlyonce.producers.blocked"));

        await _order.DeliverAsync(Add(1));

        Assert.Equal(0, Sum("exactlyonce.holdback.depth"));
        Assert.Equal(0, Sum("exactlyonce.producers.blocked"));
    }

    [Fact]
    public async Task Should_show_an_outbox_that_could_not_be_published_and_its_age_until_it_goes_out()
    {
        var add = Add(1);
        _events.FailNext = true;
        await Assert.ThrowsAsync<IOException>(() => _order.DeliverAsync(add));
        _clock.Advance(TimeSpan.FromSeconds(5));
        _listener.RecordObservableInstruments();

        Assert.Equal(1, Sum("exactlyonce.outbox.depth", ("component", "order")));
        Assert.Equal(5, _measured.Last(m => m.Instrument == "exactlyonce.outbox.oldest_age").Value);

        await _order.DeliverAsync(add);         // the redelivery sends the stored copy
        _listener.RecordObservableInstruments();

        Assert.Equal(0, Sum("exactlyonce.outbox.depth"));
        Assert.Equal(0, _measured.Last(m => m.Instrument == "exactlyonce.outbox.oldest_age").Value);
    }

    [Fact]
    public async Task Should_take_an_activations_depths_back_when_it_deactivates()
    {
        await _order.DeliverAsync(Add(2));
        Assert.Equal(1, Sum("exactlyonce.holdback.depth"));

        _order.Processor.ReleaseMetrics();

        Assert.Equal(0, Sum("exactlyonce.holdback.depth"));
        Assert.Equal(0, Sum("exactlyonce.producers.blocked"));
    }

    [Fact]
    public async Task Should_count_retries_and_the_dead_letter_of_a_poison_message()
    {
        _faults.Decide = (point, component, id) => point == FaultPoints.BeforeCommit ? new PoisonFaultException(point, component, id) : null;
        await _order.DeliverAsync(Add(1));
        while (_order.DeadLetters.DeadLettered.Count == 0)
        {
            await _order.RetryDueAsync();
        }

        // The default policy (RecoverabilityTests): failures 1 and 2 retried at once, 3 to 5 later, 6 dead-lettered.
        var retriedNow = Sum("exactlyonce.messages.retried", ("action", "retry_now"), ("kind", "handler"));
        var retriedLater = Sum("exactlyonce.messages.retried", ("action", "retry_later"), ("kind", "handler"));
        Assert.Equal((2, 3), (retriedNow, retriedLater));
        Assert.Equal(1, Sum("exactlyonce.messages.dead_lettered", ("component", "order")));
        Assert.Equal(1, Sum("exactlyonce.messages.received", ("outcome", "delayed")));
    }
}
