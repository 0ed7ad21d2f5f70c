using System.Diagnostics.Metrics;
using ExactlyOnce.Diagnostics;
using ExactlyOnce.Grains.Messages;
using ExactlyOnce.Messaging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ExactlyOnce.Tests.Core;

/// <summary>One component on fakes: its store (and the parking table) survive a simulated crash, its processor does not.</summary>
internal sealed class ComponentHarness<TData, TMessage> where TData : class, new() where TMessage : class, IMessage
{
    private readonly IComponentLogic<TData, TMessage> _logic;
    private readonly MessagingOptions _options;
    private readonly string _key;
    private readonly ILogger _logger;

    public ComponentHarness(
        IComponentLogic<TData, TMessage> logic,
        FakePublisher publisher,
        FakeFaults faults,
        TimeProvider clock,
        MessagingOptions? options = null,
        string key = "o1",
        FakeIncarnations? incarnations = null,
        ILogger? logger = null)
    {
        _logic = logic;
        _options = options ?? new MessagingOptions();
        _key = key;
        _logger = logger ?? NullLogger.Instance;
        Publisher = publisher;
        Faults = faults;
        Clock = clock;
        Metrics = new MessagingMetrics(new Meter(ExactlyOnceNames.Meter), clock);
        Incarnations = incarnations ?? new FakeIncarnations();
        Store = new FakeStore<TData> { OnWrite = CountHeld };
        Processor = NewProcessor();
    }

    /// <summary>
    /// The most held messages of one producer in any state stored so far, and the most of them
    /// that were early arrivals (above mark + 1, the ones <see cref="MessagingOptions.MaxHeldPerProducer"/> bounds).
    /// </summary>
    public (int Held, int Early) MostHeldStored { get; private set; }

    public FakeStore<TData> Store { get; private set; }

    public MessageProcessor<TData> Processor { get; private set; }

    public FakePublisher Publisher { get; }

    public FakeFaults Faults { get; }

    public TimeProvider Clock { get; }

    public FakeIncarnations Incarnations { get; }

    public FakeParkingLot Parking { get; } = new();

    public FakeDeadLetters DeadLetters { get; } = new();

    /// <summary>This component's own instruments: a listener on <see cref="MessagingMetrics.Meter"/> hears no other test.</summary>
    public MessagingMetrics Metrics { get; }

    public FakeReminder Reminder { get; } = new();

    public FakeRetryTimer RetryTimer { get; } = new();

    /// <summary>The retry timer fires: the clock moves to the earliest due time asked for, and the pass runs.</summary>
    public Task RetryDueAsync()
    {
        var due = RetryTimer.TakeDue() ?? throw new InvalidOperationException("no delayed retry is scheduled");
        if (Clock is ManualClock manual && manual.Now.UtcDateTime < due)
        {
            manual.Now = new DateTimeOffset(due, TimeSpan.Zero);
        }

        return Processor.FlushOutboxAsync();
    }

    public Task<ProcessOutcome> DeliverAsync(IMessage message) => Processor.ProcessAsync(message);

    /// <summary>A delivery that arrived with a trace parent and send time (as the stream event's request context carries them).</summary>
    public Task<ProcessOutcome> DeliverAsync(IMessage message, MessageOrigin origin) => Processor.ProcessAsync(message, origin: origin);

    /// <summary>A delivery from input stream <paramref name="input"/>.</summary>
    public Task<ProcessOutcome> DeliverAsync(IMessage message, string input) => Processor.ProcessAsync(message, input);

    /// <summary>The process dies (or the activation deactivates): memory is lost, a new activation reads storage and runs recovery.</summary>
    public async Task CrashAndRecoverAsync()
    {
        for (var crashes = 0; ; crashes++)
        {
            Store = Store.Reload();
            Processor = NewProcessor();
            try
            {
                await Processor.FlushOutboxAsync();
                return;
            }
            catch (SimulatedFaults.SimulatedCrash) when (crashes < 100)
            {
                // It crashed again while recovering: one more crash, one more recovery.
            }
        }
    }

    /// <summary>The reminder fires: recovery runs on the live activation.</summary>
    public Task TickAsync() => Processor.FlushOutboxAsync(reminderFired: Reminder.Registered);

    /// <summary>One reminder period passes (delayed retries come due), then the reminder fires.</summary>
    public Task TickAfterPeriodAsync()
    {
        if (Clock is ManualClock manual)
        {
            manual.Advance(_options.OutboxFlushPeriod);
        }

        return TickAsync();
    }

    private void CountHeld(ComponentState<TData> stored)
    {
        foreach (var progress in stored.Producers.Values)
        {
            var early = progress.Held.Count(h => h.Sequence > progress.Mark + 1);
            MostHeldStored = (Math.Max(MostHeldStored.Held, progress.Held.Count), Math.Max(MostHeldStored.Early, early));
        }
    }

    private MessageProcessor<TData> NewProcessor() =>
        new(
            new ComponentIdentity(_logic.Component, _key, _logic.OutputStreams, new InputChannels(_logic.InputStreams)),
            Store,
            new LogicHandler<TData, TMessage>(_logic, _key, DeadLetters),
            _logic.Clone,
            new ProcessorPorts(Publisher, Faults, Reminder, Incarnations, Parking, RetryTimer, Clock, _options, _logger, Metrics));
}
