using System.Data.Common;
using System.Net.Sockets;

namespace ExactlyOnce.Messaging;

/// <summary>What kind of failure struck a message.</summary>
internal enum FailureKind
{
    /// <summary>Infrastructure or a passing condition (storage, stream, network, timeouts, shutdown): retried until it works, never dead-lettered.</summary>
    Transient,

    /// <summary>The business handler itself failed (an exception from its Validate or Handle code): retried a bounded number of times, then dead-lettered.</summary>
    Handler,
}

/// <summary>What to do with a message whose processing failed.</summary>
internal enum RetryAction
{
    /// <summary>Try again at once, in the same delivery.</summary>
    RetryNow,

    /// <summary>Keep it (in the receiver's state when it can, else on the stream) and try again after <see cref="RetryDecision.Delay"/>.</summary>
    RetryLater,

    /// <summary>Store it in the dead letters; its producer's later messages wait until it is replayed or discarded.</summary>
    DeadLetter,

    /// <summary>Let it take its turn as a recorded no-op (a failure type configured as not worth retrying).</summary>
    Discard,
}

/// <summary>The policy's answer, with the reason that goes into logs and dead letters.</summary>
internal sealed record RetryDecision(RetryAction Action, FailureKind Kind, TimeSpan Delay, string Reason);

/// <summary>One failure of one message, as the policy sees it.</summary>
/// <param name="Exception">What was thrown.</param>
/// <param name="Failures">Failures of this message so far, this one included (at least 1).</param>
/// <param name="SinceFirstFailure">Time since this message first failed.</param>
/// <param name="OthersAppliedSinceFirstFailure">Whether the same receiver applied other messages since this one first failed.</param>
internal readonly record struct MessageFailure(Exception Exception, int Failures, TimeSpan SinceFirstFailure, bool OthersAppliedSinceFirstFailure);

/// <summary>
/// Options of the recoverability policy (configuration section <c>Messaging:Recoverability</c>).
/// The defaults are what a user ships: no failure is ever lost, and only a handler that keeps
/// failing reaches the dead letters.
/// </summary>
public sealed class RecoverabilityOptions
{
    /// <summary>Retries in the same delivery right after a failure, for any kind. Default: 2.</summary>
    public int ImmediateRetries { get; set; } = 2;

    /// <summary>Delayed retries of a handler failure after the immediate ones; then it is dead-lettered. Default: 3.</summary>
    public int DelayedRetries { get; set; } = 3;

    /// <summary>Delay before the first delayed retry of a handler failure; each next one doubles it (5 s, 10 s, 20 s). Default: 5 s.</summary>
    public TimeSpan DelayedRetryBase { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Delay before the first delayed retry of a transient failure; each next one doubles it up to <see cref="TransientRetryCap"/>. Default: 1 s.</summary>
    public TimeSpan TransientRetryBase { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest delay between two retries of a transient failure, so a cleared fault is picked up soon. Default: 30 s.</summary>
    public TimeSpan TransientRetryCap { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A "transient" failure that keeps recurring on one message while the receiver applies other
    /// messages is the handler's own: after this many failures and <see cref="TransientRecurrenceWindow"/>,
    /// it is treated as a handler failure (and dead-lettered). Default: 20.
    /// </summary>
    public int TransientRecurrenceLimit { get; set; } = 20;

    /// <summary>How long a transient failure must have recurred before it can count as the handler's (see <see cref="TransientRecurrenceLimit"/>). Default: 5 min.</summary>
    public TimeSpan TransientRecurrenceWindow { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Full names of further exception types to treat as transient (besides the built-in infrastructure types). Default: none.</summary>
    public List<string> TransientExceptionTypes { get; set; } = [];

    /// <summary>Full names of exception types whose message is discarded at once (it takes its turn as a recorded no-op). Default: none.</summary>
    public List<string> DiscardExceptionTypes { get; set; } = [];

    /// <summary>Why these options cannot work, or null when they are valid.</summary>
    public string? Validate()
    {
        if (ImmediateRetries is < 0 or > 10)
        {
            return $"{nameof(ImmediateRetries)} must be from 0 to 10";
        }

        if (DelayedRetries is < 0 or > 20)
        {
            return $"{nameof(DelayedRetries)} must be from 0 to 20";
        }

        if (DelayedRetryBase <= TimeSpan.Zero || TransientRetryBase <= TimeSpan.Zero)
        {
            return $"{nameof(DelayedRetryBase)} and {nameof(TransientRetryBase)} must be positive";
        }

        if (TransientRetryCap < TransientRetryBase)
        {
            return $"{nameof(TransientRetryCap)} must be at least {nameof(TransientRetryBase)}";
        }

        if (TransientRecurrenceLimit < 1 || TransientRecurrenceWindow < TimeSpan.Zero)
        {
            return $"{nameof(TransientRecurrenceLimit)} must be at least 1 and {nameof(TransientRecurrenceWindow)} not negative";
        }

        return TransientExceptionTypes.Concat(DiscardExceptionTypes).FirstOrDefault(string.IsNullOrWhiteSpace) is not null
            ? "exception type names must not be blank"
            : null;
    }
}

/// <summary>
/// The recoverability policy as a pure function: (exception, failures so far, time since the first
/// failure, whether other messages got through meanwhile) → retry now, retry later, dead-letter or
/// discard. See docs/pipeline.md, "Recoverability", for the table.
/// </summary>
internal sealed class RecoverabilityPolicy(RecoverabilityOptions options)
{
    private readonly HashSet<string> _transientNames = [.. options.TransientExceptionTypes];
    private readonly HashSet<string> _discardNames = [.. options.DiscardExceptionTypes];

    public RecoverabilityOptions Options { get; } = options;

    /// <summary>Decides what happens to a message after a failure.</summary>
    public RetryDecision Decide(MessageFailure failure)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(failure.Failures, 1);
        var what = Describe(failure.Exception);
        if (Chain(failure.Exception).Any(e => _discardNames.Contains(e.GetType().FullName!)))
        {
            return new RetryDecision(RetryAction.Discard, FailureKind.Handler, TimeSpan.Zero, $"discarded ({what})");
        }

        var kind = Classify(failure.Exception);
        if (kind == FailureKind.Transient && RecursAlone(failure))
        {
            kind = FailureKind.Handler;
            what = $"{what}; recurred {failure.Failures} times on this message over {failure.SinceFirstFailure:g} while other messages were applied";
        }

        if (failure.Failures <= Options.ImmediateRetries)
        {
            return new RetryDecision(RetryAction.RetryNow, kind, TimeSpan.Zero, what);
        }

        var delayed = failure.Failures - Options.ImmediateRetries;
        if (kind == FailureKind.Transient)
        {
            return new RetryDecision(RetryAction.RetryLater, kind, Backoff(Options.TransientRetryBase, delayed, Options.TransientRetryCap), what);
        }

        return delayed <= Options.DelayedRetries
            ? new RetryDecision(RetryAction.RetryLater, kind, Backoff(Options.DelayedRetryBase, delayed, TimeSpan.MaxValue), what)
            : new RetryDecision(RetryAction.DeadLetter, kind, TimeSpan.Zero, $"{what} (failed {failure.Failures} times)");
    }

    /// <summary>
    /// Errors the policy never handles: the process is in no state to retry or to write a dead
    /// letter (out of memory), so the failure propagates and the stream redelivers the message.
    /// </summary>
    public static bool IsFatal(Exception exception) => exception is OutOfMemoryException or InsufficientExecutionStackException;

    /// <summary>
    /// A handler failure only when the component's own code threw (<see cref="HandlerFailedException"/>)
    /// something that is not an infrastructure failure, or for the <c>poison</c> fault. Infrastructure
    /// failures are state writes and fencing, database and socket I/O, timeouts and cancellation, an
    /// unreachable or stopping silo, the fallback inbox being full, the <c>throw</c> fault, a configured
    /// type, or any of these inside the exception. Whatever fails outside the component's code (a
    /// reminder registration, the incarnation counter, a dead-letter write) is infrastructure whatever
    /// its type: a remote database error may even arrive as a serialization error.
    /// </summary>
    public FailureKind Classify(Exception exception) => exception switch
    {
        PoisonFaultException => FailureKind.Handler,
        HandlerFailedException handler => Chain(handler.InnerException!).Any(IsTransient) ? FailureKind.Transient : FailureKind.Handler,
        _ => FailureKind.Transient,
    };

    private bool IsTransient(Exception e) =>
        e is StateWriteFailedException or DbException or IOException or SocketException
            or TimeoutException or OperationCanceledException or InboxFullException or SimulatedFaultException
            or SiloUnavailableException or OrleansMessageRejectionException
        || _transientNames.Contains(e.GetType().FullName!);

    private bool RecursAlone(MessageFailure failure) =>
        failure.OthersAppliedSinceFirstFailure
        && failure.Failures > Options.TransientRecurrenceLimit
        && failure.SinceFirstFailure >= Options.TransientRecurrenceWindow;

    private static TimeSpan Backoff(TimeSpan first, int attempt, TimeSpan cap)
    {
        var factor = Math.Pow(2, Math.Min(attempt - 1, 30));
        var ticks = first.Ticks * factor;
        return ticks >= cap.Ticks ? cap : TimeSpan.FromTicks((long)ticks);
    }

    private static string Describe(Exception exception) =>
        exception is HandlerFailedException { InnerException: { } inner } ? $"{inner.GetType().Name}: {inner.Message}" : $"{exception.GetType().Name}: {exception.Message}";

    /// <summary>The exception and everything inside it (inner exceptions, aggregated ones).</summary>
    private static IEnumerable<Exception> Chain(Exception exception)
    {
        var pending = new Stack<Exception>([exception]);
        var seen = 0;
        while (pending.Count > 0 && seen++ < 32)
        {
            var e = pending.Pop();
            yield return e;
            if (e is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions)
                {
                    pending.Push(inner);
                }
            }
            else if (e.InnerException is { } inner)
            {
                pending.Push(inner);
            }
        }
    }
}
