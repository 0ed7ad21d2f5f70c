using System.Diagnostics.Metrics;

namespace ExactlyOnce.Silo.Http;

/// <summary>
/// This silo's figures of the library's meter <see cref="ExactlyOnceNames.Meter"/>, read in-process
/// with a <see cref="MeterListener"/> (never by scraping <c>/metrics</c>): counters and up-down
/// counters summed per component (and per outcome for <c>exactlyonce.messages.received</c>), the
/// gauge <c>exactlyonce.outbox.oldest_age</c>, and the histogram <c>exactlyonce.message.latency</c>
/// (when the library has it) kept in fixed exponential buckets, so that silos' histograms can be
/// added up and cut at percentiles. A timer samples the applied totals every second for the rate
/// over <see cref="RateWindow"/>.
/// </summary>
/// <remarks>
/// Only the meter made by this silo's <see cref="IMeterFactory"/> is read (its
/// <see cref="Meter.Scope"/>), so another meter of the same name in the process does not count.
/// The listener must exist before the first message: the depths are up-down counters whose
/// earlier changes it could not see; <see cref="PipelineMeterReaderStarter"/> creates it before
/// the silo starts.
/// </remarks>
internal sealed class PipelineMeterReader : IDisposable
{
    /// <summary>The histogram of the time from publish to applied (unit s, tag component).</summary>
    public const string LatencyInstrument = "exactlyonce.message.latency";

    /// <summary>How far back the applied rate looks.</summary>
    public static readonly TimeSpan RateWindow = TimeSpan.FromSeconds(10);

    /// <summary>Upper bounds (s) of the latency buckets: 0.5 ms × 2^(i/4), four per doubling, up to ~9 min; one more bucket above.</summary>
    public static readonly double[] LatencyBounds = [.. Enumerable.Range(0, 81).Select(i => 0.0005 * Math.Pow(2, i / 4.0))];

    private readonly MeterListener _listener = new();
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Figures> _components = new(StringComparer.Ordinal);
    private readonly Queue<(DateTime At, Dictionary<string, long> Applied)> _samples = new();
    private readonly TimeProvider _clock;
    private readonly ITimer _sampler;
    private double _oldestOutboxAge;
    private bool _latencyPublished;

    public PipelineMeterReader(IMeterFactory meters, TimeProvider clock)
    {
        _clock = clock;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == ExactlyOnceNames.Meter && ReferenceEquals(instrument.Meter.Scope, meters))
            {
                if (instrument.Name == LatencyInstrument)
                {
                    _latencyPublished = true;
                }

                listener.EnableMeasurementEvents(instrument, instrument.Unit == "ms" ? 0.001 : 1.0);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, state) => Record(instrument, value, tags, (double)state!));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, state) => Record(instrument, value, tags, (double)state!));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, state) => Record(instrument, value, tags, (double)state!));
        _listener.Start();
        _sampler = clock.CreateTimer(_ => Sample(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    /// <summary>The figures now, per component, with the applied rate over the last <see cref="RateWindow"/>.</summary>
    public SiloPipelineSnapshot Snapshot(string silo)
    {
        lock (_gate)
        {
            _oldestOutboxAge = 0;
            _listener.RecordObservableInstruments();
            var now = _clock.GetUtcNow().UtcDateTime;
            var (since, before) = _samples.Count > 0 ? _samples.Peek() : (now, new Dictionary<string, long>());
            var seconds = (now - since).TotalSeconds;
            return new SiloPipelineSnapshot
            {
                Silo = silo,
                TakenAt = now,
                LatencyMeasured = _latencyPublished,
                OutboxOldestAgeSeconds = _oldestOutboxAge,
                Components = [.. _components.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => c.Value.Copy(
                    seconds < 0.5 ? 0 : (c.Value.Applied - before.GetValueOrDefault(c.Key)) / seconds))],
            };
        }
    }

    public void Dispose()
    {
        _sampler.Dispose();
        _listener.Dispose();
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags, double scale)
    {
        string? component = null;
        string? outcome = null;
        foreach (var tag in tags)
        {
            switch (tag.Key)
            {
                case "component":
                    component = tag.Value as string;
                    break;
                case "outcome":
                    outcome = tag.Value as string;
                    break;
            }
        }

        lock (_gate)
        {
            if (instrument.Name == "exactlyonce.outbox.oldest_age")
            {
                _oldestOutboxAge = Math.Max(_oldestOutboxAge, value);
                return;
            }

            if (component is null)
            {
                return;
            }

            if (!_components.TryGetValue(component, out var figures))
            {
                figures = new Figures(component);
                _components[component] = figures;
            }

            var count = (long)value;
            switch (instrument.Name)
            {
                case "exactlyonce.messages.received":
                    var key = outcome ?? "unknown";
                    figures.Received[key] = figures.Received.GetValueOrDefault(key) + count;
                    break;
                case "exactlyonce.messages.applied":
                    figures.Applied += count;
                    break;
                case "exactlyonce.messages.retried":
                    figures.Retried += count;
                    break;
                case "exactlyonce.messages.dead_lettered":
                    figures.DeadLettered += count;
                    break;
                case "exactlyonce.messages.discarded":
                    figures.Discarded += count;
                    break;
                case "exactlyonce.outbox.depth":
                    figures.OutboxDepth += count;
                    break;
                case "exactlyonce.holdback.depth":
                    figures.HeldDepth += count;
                    break;
                case "exactlyonce.producers.blocked":
                    figures.BlockedProducers += count;
                    break;
                case LatencyInstrument:
                    figures.AddLatency(value * scale);
                    break;
            }
        }
    }

    private void Sample()
    {
        lock (_gate)
        {
            var now = _clock.GetUtcNow().UtcDateTime;
            _samples.Enqueue((now, _components.ToDictionary(c => c.Key, c => c.Value.Applied, StringComparer.Ordinal)));
            while (_samples.Count > 1 && now - _samples.Peek().At > RateWindow)
            {
                _samples.Dequeue();
            }
        }
    }

    /// <summary>One component's running figures on this silo.</summary>
    private sealed class Figures(string component)
    {
        public Dictionary<string, long> Received { get; } = new(StringComparer.Ordinal);

        public long Applied { get; set; }

        public long Retried { get; set; }

        public long DeadLettered { get; set; }

        public long Discarded { get; set; }

        public long OutboxDepth { get; set; }

        public long HeldDepth { get; set; }

        public long BlockedProducers { get; set; }

        private readonly long[] _latency = new long[LatencyBounds.Length + 1];
        private double _latencyMax;

        public void AddLatency(double seconds)
        {
            var index = Array.BinarySearch(LatencyBounds, seconds);
            _latency[index >= 0 ? index : ~index]++;
            _latencyMax = Math.Max(_latencyMax, seconds);
        }

        public ComponentFigures Copy(double appliedPerSecond) => new()
        {
            Component = component,
            Applied = Applied,
            AppliedPerSecond = appliedPerSecond,
            Received = new Dictionary<string, long>(Received, StringComparer.Ordinal),
            Retried = Retried,
            DeadLettered = DeadLettered,
            Discarded = Discarded,
            OutboxDepth = OutboxDepth,
            HeldDepth = HeldDepth,
            BlockedProducers = BlockedProducers,
            LatencyBuckets = [.. _latency],
            LatencyMax = _latencyMax,
        };
    }
}

/// <summary>Creates the <see cref="PipelineMeterReader"/> when the host starts, before the silo (registered before Orleans).</summary>
internal sealed class PipelineMeterReaderStarter(PipelineMeterReader reader) : Microsoft.Extensions.Hosting.IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        GC.KeepAlive(reader);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
