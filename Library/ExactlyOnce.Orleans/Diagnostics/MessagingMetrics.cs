using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using ExactlyOnce.Messaging;

namespace ExactlyOnce.Diagnostics;

/// <summary>
/// The core's instruments, on the meter <see cref="ExactlyOnceNames.Meter"/> (one per silo, made by
/// the silo's <see cref="IMeterFactory"/>). Counters count deliveries and decisions; the depths are
/// kept as running sums each activation adds its changes to, and takes back when it deactivates.
/// </summary>
internal sealed class MessagingMetrics
{
    private readonly Counter<long> _received;
    private readonly Counter<long> _applied;
    private readonly Counter<long> _retried;
    private readonly Counter<long> _deadLettered;
    private readonly Counter<long> _discarded;
    private readonly UpDownCounter<long> _outboxDepth;
    private readonly UpDownCounter<long> _heldDepth;
    private readonly UpDownCounter<long> _blockedProducers;
    private readonly Histogram<long> _stateWriteSize;
    private readonly Histogram<double> _latency;
    private readonly ConcurrentDictionary<Depths, DateTime> _outboxesSince = new();
    private readonly TimeProvider _clock;

    /// <summary>The instruments on the silo's meter <see cref="ExactlyOnceNames.Meter"/>.</summary>
    public MessagingMetrics(IMeterFactory meters, TimeProvider clock)
        : this(meters.Create(ExactlyOnceNames.Meter), clock)
    {
    }

    /// <summary>The instruments on <paramref name="meter"/> (tests give each component its own).</summary>
    public MessagingMetrics(Meter meter, TimeProvider clock)
    {
        _clock = clock;
        Meter = meter;
        _received = Meter.CreateCounter<long>("exactlyonce.messages.received", "{message}",
            "Deliveries from the input streams, by outcome: applied, duplicate, held, parked, rejected, conflict, delayed, dead_lettered.");
        _applied = Meter.CreateCounter<long>("exactlyonce.messages.applied", "{message}",
            "Messages applied to a component's state (including held messages applied when their turn came).");
        _retried = Meter.CreateCounter<long>("exactlyonce.messages.retried", "{attempt}",
            "Failed processing attempts that the recoverability policy retries (action: retry_now, retry_later).");
        _deadLettered = Meter.CreateCounter<long>("exactlyonce.messages.dead_lettered", "{message}",
            "Messages the recoverability policy gave up on, stored in the dead letters.");
        _discarded = Meter.CreateCounter<long>("exactlyonce.messages.discarded", "{message}",
            "Messages that took their turn as a recorded no-op (invalid, a tombstone, or discarded by the policy).");
        _outboxDepth = Meter.CreateUpDownCounter<long>("exactlyonce.outbox.depth", "{message}",
            "Committed outgoing messages not yet confirmed as published, over the activations of this silo.");
        _heldDepth = Meter.CreateUpDownCounter<long>("exactlyonce.holdback.depth", "{message}",
            "Messages held in component states until their turn (early arrivals and delayed retries).");
        _blockedProducers = Meter.CreateUpDownCounter<long>("exactlyonce.producers.blocked", "{producer}",
            "Producers (per receiver and input) whose next message has not been applied while later ones wait.");
        _stateWriteSize = Meter.CreateHistogram<long>("exactlyonce.state.write.size", "By",
            "Size of each component state written to storage.");
        _latency = Meter.CreateHistogram("exactlyonce.message.latency", "s",
            "From the commit (or client send) of a message to its application by the receiving component: on arrival, or later for a message held, parked or retried until its turn.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300] });
        Meter.CreateObservableGauge("exactlyonce.outbox.oldest_age", ObserveOldestOutbox, "s",
            "Age of the oldest outbox of this silo that has not been emptied since it filled.");
    }

    /// <summary>The meter all instruments are on.</summary>
    public Meter Meter { get; }

    public void Received(string component, DeliveryMode mode, ProcessOutcome outcome) =>
        _received.Add(1, new TagList { { "component", component }, { "mode", ModeTag(mode) }, { "outcome", OutcomeTag(outcome) } });

    public void Applied(string component, DeliveryMode mode) =>
        _applied.Add(1, new KeyValuePair<string, object?>("component", component), new KeyValuePair<string, object?>("mode", ModeTag(mode)));

    public void Retried(string component, RetryAction action, FailureKind kind) =>
        _retried.Add(1, new TagList { { "component", component }, { "action", action == RetryAction.RetryNow ? "retry_now" : "retry_later" }, { "kind", kind.ToString().ToLowerInvariant() } });

    public void DeadLettered(string component) => _deadLettered.Add(1, new KeyValuePair<string, object?>("component", component));

    public void Discarded(string component) => _discarded.Add(1, new KeyValuePair<string, object?>("component", component));

    public void Latency(string component, TimeSpan latency) =>
        _latency.Record(Math.Max(0, latency.TotalSeconds), new KeyValuePair<string, object?>("component", component));

    public void StateWritten(string stateType, long bytes) => _stateWriteSize.Record(bytes, new KeyValuePair<string, object?>("state", stateType));

    /// <summary>One activation's depths: what it reported last, so each change adds only the difference.</summary>
    public sealed class Depths(MessagingMetrics metrics, string component)
    {
        private readonly KeyValuePair<string, object?> _tag = new("component", component);
        private long _outbox;
        private long _held;
        private long _blocked;

        /// <summary>Reports the state's current depths (after a write, or a dispatch that emptied the outbox).</summary>
        public void Report(long outbox, long held, long blocked)
        {
            Change(metrics._outboxDepth, ref _outbox, outbox);
            Change(metrics._heldDepth, ref _held, held);
            Change(metrics._blockedProducers, ref _blocked, blocked);
            if (outbox == 0)
            {
                metrics._outboxesSince.TryRemove(this, out _);
            }
            else
            {
                // Since it filled: an outbox that stays non-empty keeps its first time.
                metrics._outboxesSince.TryAdd(this, metrics._clock.GetUtcNow().UtcDateTime);
            }
        }

        /// <summary>The activation is gone: its depths leave the sums.</summary>
        public void Clear() => Report(0, 0, 0);

        private void Change(UpDownCounter<long> counter, ref long last, long now)
        {
            if (now != last)
            {
                counter.Add(now - last, _tag);
                last = now;
            }
        }
    }

    private IEnumerable<Measurement<double>> ObserveOldestOutbox()
    {
        var now = _clock.GetUtcNow().UtcDateTime;
        var oldest = _outboxesSince.Values.DefaultIfEmpty(now).Min();
        return [new Measurement<double>((now - oldest).TotalSeconds)];
    }

    private static string ModeTag(DeliveryMode mode) => mode switch
    {
        DeliveryMode.ExactlyOnce => "exactly_once",
        DeliveryMode.AtLeastOnce => "at_least_once",
        DeliveryMode.AtMostOnce => "at_most_once",
        _ => "unknown",
    };

    private static string OutcomeTag(ProcessOutcome outcome) => outcome switch
    {
        ProcessOutcome.DeadLettered => "dead_lettered",
        _ => outcome.ToString().ToLowerInvariant(),
    };
}
