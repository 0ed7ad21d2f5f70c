using System.Net.Sockets;
using ExactlyOnce.Messaging;
using Orleans.Storage;

namespace ExactlyOnce.Tests.Core;

/// <summary>The recoverability policy alone: a pure function of the failure, with the default options unless a test is about one.</summary>
[Trait("Kind", "Unit")]
public sealed class RecoverabilityPolicyTests
{
    private static readonly RecoverabilityPolicy Defaults = new(new RecoverabilityOptions());

    private static RetryDecision Decide(Exception e, int failures, TimeSpan? since = null, bool others = false, RecoverabilityPolicy? policy = null) =>
        (policy ?? Defaults).Decide(new MessageFailure(e, failures, since ?? TimeSpan.Zero, others));

    public static TheoryData<Exception> TransientFailures() =>
    [
        new StateWriteFailedException("write failed", new TimeoutException()),
        new FencedActivationException("order", Guid.NewGuid(), new InconsistentStateException("etag", "1", "2")),
        new TimeoutException("db timeout"),
        new TaskCanceledException("cancelled"),
        new IOException("stream closed"),
        new SocketException((int)SocketError.ConnectionRefused),
        new SiloUnavailableException("silo shutting down"),
        new InboxFullException("order", 20_000),
        new SimulatedFaultException("before-commit", "billing", Guid.NewGuid()),
        new InvalidOperationException("wrapped", new TimeoutException("inside")),
        new AggregateException(new ArgumentException("x"), new IOException("y")),
    ];

    private static HandlerFailedException InHandler(Exception inner) => new("order", inner);

    [Fact]
    public void Should_count_only_what_the_handler_threw_as_a_handler_failure()
    {
        // A database error raised on another silo may reach the caller as a serialization error: outside
        // the handler's code, whatever fails is infrastructure.
        var remote = new InvalidOperationException("Could not find a codec for type Npgsql.NpgsqlException.");
        Assert.Equal(FailureKind.Transient, Defaults.Classify(remote));
        Assert.Equal(FailureKind.Handler, Defaults.Classify(InHandler(remote)));
        Assert.Equal(FailureKind.Transient, Defaults.Classify(InHandler(new TimeoutException("the handler's own call timed out"))));
        Assert.Equal("InvalidOperationException: bug (failed 6 times)", Decide(InHandler(new InvalidOperationException("bug")), 6).Reason);
    }

    [Theory]
    [MemberData(nameof(TransientFailures))]
    public void Should_retry_infrastructure_failures_forever_with_capped_backoff_and_never_dead_letter_them(Exception failure)
    {
        Assert.Equal(FailureKind.Transient, Defaults.Classify(InHandler(failure)));
        Assert.Equal(FailureKind.Transient, Defaults.Classify(failure));
        Assert.Equal(RetryAction.RetryNow, Decide(failure, 1).Action);
        Assert.Equal(RetryAction.RetryNow, Decide(failure, 2).Action);

        var delays = Enumerable.Range(3, 10_000).Select(n => Decide(failure, n, TimeSpan.FromDays(3))).ToList();
        Assert.All(delays, d => Assert.Equal(RetryAction.RetryLater, d.Action));
        Assert.Equal([1, 2, 4, 8, 16, 30, 30], delays.Take(7).Select(d => d.Delay.TotalSeconds));
        Assert.Equal(TimeSpan.FromSeconds(30), delays[^1].Delay);
    }

    [Fact]
    public void Should_retry_a_handler_failure_at_once_then_after_growing_delays_then_dead_letter_it()
    {
        var bug = new HandlerFailedException("order", new InvalidOperationException("handler bug"));

        var decisions = Enumerable.Range(1, 6).Select(n => Decide(bug, n)).ToList();

        Assert.All(decisions, d => Assert.Equal(FailureKind.Handler, d.Kind));
        Assert.Equal(
            [RetryAction.RetryNow, RetryAction.RetryNow, RetryAction.RetryLater, RetryAction.RetryLater, RetryAction.RetryLater, RetryAction.DeadLetter],
            decisions.Select(d => d.Action));
        Assert.Equal([5, 10, 20], decisions.Skip(2).Take(3).Select(d => d.Delay.TotalSeconds));
        Assert.Equal("InvalidOperationException: handler bug (failed 6 times)", decisions[^1].Reason);
    }

    [Fact]
    public void Should_treat_a_poison_fault_as_a_handler_failure()
    {
        var poison = new PoisonFaultException("before-commit", "order", Guid.NewGuid());

        Assert.Equal(FailureKind.Handler, Defaults.Classify(poison));
        Assert.Equal(RetryAction.DeadLetter, Decide(poison, 6).Action);
    }

    [Fact]
    public void Should_count_a_transient_failure_recurring_on_one_message_while_others_pass_as_the_handlers()
    {
        var timeout = new TimeoutException("only this message times out");
        var window = TimeSpan.FromMinutes(5);

        // Alone, or not long enough, or not often enough: still transient.
        Assert.Equal(RetryAction.RetryLater, Decide(timeout, 21, window, others: false).Action);
        Assert.Equal(RetryAction.RetryLater, Decide(timeout, 21, window - TimeSpan.FromSeconds(1), others: true).Action);
        Assert.Equal(RetryAction.RetryLater, Decide(timeout, 20, window, others: true).Action);

        var decision = Decide(timeout, 21, window, others: true);
        Assert.Equal((RetryAction.DeadLetter, FailureKind.Handler), (decision.Action, decision.Kind));
        Assert.Contains("while other messages were applied", decision.Reason);
    }

    [Fact]
    public void Should_discard_configured_types_and_treat_configured_types_as_transient()
    {
        var policy = new RecoverabilityPolicy(new RecoverabilityOptions
        {
            DiscardExceptionTypes = [typeof(FormatException).FullName!],
            TransientExceptionTypes = [typeof(KeyNotFoundException).FullName!],
        });

        Assert.Equal(RetryAction.Discard, Decide(InHandler(new FormatException("bad")), 1, policy: policy).Action);
        Assert.Equal(FailureKind.Transient, policy.Classify(InHandler(new KeyNotFoundException("not yet"))));
        Assert.Equal(RetryAction.RetryLater, Decide(InHandler(new KeyNotFoundException("not yet")), 500, policy: policy).Action);
        Assert.Equal(FailureKind.Handler, Defaults.Classify(InHandler(new KeyNotFoundException("not yet"))));
    }

    [Fact]
    public void Should_go_straight_to_delays_without_immediate_retries_and_to_the_dead_letters_without_delayed_ones()
    {
        var policy = new RecoverabilityPolicy(new RecoverabilityOptions { ImmediateRetries = 0, DelayedRetries = 0 });
        var bug = InHandler(new ArgumentException("bug"));

        Assert.Equal(RetryAction.DeadLetter, Decide(bug, 1, policy: policy).Action);
        Assert.Equal(RetryAction.RetryLater, Decide(new TimeoutException(), 1, policy: policy).Action);
    }

    [Theory]
    [InlineData(-1, 3, 5, 1, 30, "ImmediateRetries")]
    [InlineData(2, -1, 5, 1, 30, "DelayedRetries")]
    [InlineData(2, 3, 0, 1, 30, "DelayedRetryBase")]
    [InlineData(2, 3, 5, 10, 5, "TransientRetryCap")]
    public void Should_refuse_options_that_cannot_work(int immediate, int delayed, int delayedBaseSeconds, int transientBaseSeconds, int capSeconds, string named)
    {
        var options = new RecoverabilityOptions
        {
            ImmediateRetries = immediate,
            DelayedRetries = delayed,
            DelayedRetryBase = TimeSpan.FromSeconds(delayedBaseSeconds),
            TransientRetryBase = TimeSpan.FromSeconds(transientBaseSeconds),
            TransientRetryCap = TimeSpan.FromSeconds(capSeconds),
        };

        Assert.Contains(named, options.Validate());
        Assert.Null(new RecoverabilityOptions().Validate());
    }
}
