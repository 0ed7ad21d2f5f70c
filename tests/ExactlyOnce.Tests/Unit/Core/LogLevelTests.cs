using ExactlyOnce.Faults;
using ExactlyOnce.Grains.Messages;
using ExactlyOnce.Grains.Orders;
using ExactlyOnce.Messaging;
using Microsoft.Extensions.Logging;

namespace ExactlyOnce.Tests.Core;

/// <summary>
/// What the core logs at which level (docs/operations.md, "Logs"): per-message events at Debug, so a
/// silo on the default level (Information) writes nothing per message; decisions at Information or
/// above; an exception on one line only, with the line of whoever stops it.
/// </summary>
[Trait("Kind", "Unit")]
public sealed class LogLevelTests
{
    private const string Client = "client/cli/7";

    private readonly FakeFaults _faults = new();
    private readonly ManualClock _clock = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly CapturingLogger _log = new();
    private readonly ComponentHarness<OrderData, OrderCommand> _order;

    public LogLevelTests() => _order = new(OrderLogic.Instance, new FakePublisher(), _faults, _clock, logger: _log);

    private static IMessage Add(long sequence, Filling filling = Filling.Meat) =>
        new AddItem(Guid.NewGuid(), "o1", filling).WithSequence(Client, sequence);

    [Fact]
    public async Task Should_log_applied_duplicate_and_held_messages_at_debug_only()
    {
        var first = Add(1);
        Assert.Equal(ProcessOutcome.Applied, await _order.DeliverAsync(first));
        Assert.Equal(ProcessOutcome.Duplicate, await _order.DeliverAsync(first));
        Assert.Equal(ProcessOutcome.Held, await _order.DeliverAsync(Add(3, Filling.Strawberry)));
        Assert.Equal(ProcessOutcome.Applied, await _order.DeliverAsync(Add(2, Filling.Mushrooms)));
        var unsequenced = new AddItem(Guid.NewGuid(), "o1", Filling.SwissCheese);
        Assert.Equal(ProcessOutcome.Applied, await _order.DeliverAsync(unsequenced));
        Assert.Equal(ProcessOutcome.Duplicate, await _order.DeliverAsync(unsequenced));

        // Each kind was logged (the test sees the lines), none above Debug.
        Assert.Equal(2, _log.Entries.Count(e => e.EventId == 1001));   // duplicate: sequenced, then unsequenced
        Assert.Single(_log.Entries, e => e.EventId == 1013);           // held
        Assert.Equal(3, _log.Entries.Count(e => e.EventId == 1012));   // applied in order: #1, #2, then #3 released
        Assert.All(_log.Entries, e => Assert.True(e.Level == LogLevel.Debug, $"{e.Level} {e.EventId}: {e.Message}"));
    }

    [Fact]
    public async Task Should_log_a_dead_letter_as_an_error_and_each_failure_once_with_its_exception()
    {
        var poison = Add(1);
        _faults.Decide = (point, _, id) => point == FaultPoints.BeforeCommit && id == poison.MessageId
            ? new PoisonFaultException(point, "order", id) : null;

        Assert.Equal(ProcessOutcome.Delayed, await _order.DeliverAsync(poison));
        for (var i = 0; i < 3; i++)
        {
            await _order.RetryDueAsync();
        }

        Assert.Single(_order.DeadLetters.DeadLettered);
        var deadLettered = Assert.Single(_log.Entries, e => e.EventId == 1018);
        Assert.Equal(LogLevel.Error, deadLettered.Level);
        Assert.Contains(poison.MessageId.ToString(), deadLettered.Message);

        // Six failures: the delivery's two immediate retries at Debug, the four decisions
        // (delay, delay, delay, dead letter) at Warning; every one with its own exception, once.
        var failures = _log.Entries.Where(e => e.EventId == 1020).ToList();
        Assert.Equal([LogLevel.Debug, LogLevel.Debug, LogLevel.Warning, LogLevel.Warning, LogLevel.Warning, LogLevel.Warning], failures.Select(e => e.Level));
        Assert.All(failures, e => Assert.IsType<PoisonFaultException>(e.Exception));
        var logged = _log.Entries.Where(e => e.Exception is not null).Select(e => e.Exception).ToList();
        Assert.Equal(logged.Count, logged.Distinct(ReferenceEqualityComparer.Instance).Count());
    }

    [Fact]
    public async Task Should_leave_a_failure_that_goes_back_to_the_stream_to_the_one_who_catches_it()
    {
        // Unsequenced, transient: after the immediate retries the exception goes up to Orleans
        // (which logs it with its stack trace and redelivers): the decision line names no exception.
        var add = new AddItem(Guid.NewGuid(), "o1", Filling.Meat);
        _faults.Decide = (point, _, id) => point == FaultPoints.BeforeCommit ? new SimulatedFaultException(point, "order", id) : null;

        var thrown = await Assert.ThrowsAsync<SimulatedFaultException>(() => _order.DeliverAsync(add));

        var decision = _log.Entries.Last(e => e.EventId == 1020);
        Assert.Equal(LogLevel.Warning, decision.Level);
        Assert.Contains("RetryLater", decision.Message);
        Assert.Null(decision.Exception);
        Assert.DoesNotContain(_log.Entries, e => ReferenceEquals(e.Exception, thrown));
    }

    [Fact]
    public async Task Should_log_an_at_most_once_loss_as_a_warning_with_its_exception()
    {
        var add = new AddItem(Guid.NewGuid(), "o1", Filling.Meat, DeliveryMode.AtMostOnce);
        _faults.Decide = (point, _, id) => point == FaultPoints.AfterCommit ? new SimulatedFaultException(point, "order", id) : null;

        Assert.Equal(ProcessOutcome.Lost, await _order.DeliverAsync(add));

        var lost = Assert.Single(_log.Entries, e => e.EventId == 1006);
        Assert.Equal(LogLevel.Warning, lost.Level);
        Assert.IsType<SimulatedFaultException>(lost.Exception);
    }

    /// <summary>Keeps every line, whatever its level (the generated methods ask <see cref="IsEnabled"/> first).</summary>
    private sealed class CapturingLogger : ILogger
    {
        public sealed record Entry(LogLevel Level, int EventId, string Message, Exception? Exception);

        private readonly List<Entry> _entries = [];

        public IReadOnlyList<Entry> Entries
        {
            get
            {
                lock (_entries)
                {
                    return [.. _entries];
                }
            }
        }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (_entries)
            {
                _entries.Add(new Entry(logLevel, eventId.Id, formatter(state, exception), exception));
            }
        }
    }
}
