
namespace ExactlyOnce.Messaging;

/// <summary>The component's persisted state (an Orleans <c>IPersistentState</c> in a grain; a fake in unit tests).</summary>
internal interface IStateStore<TState>
{
    /// <summary>The state as last read or written.</summary>
    TState State { get; set; }

    /// <summary>Writes <see cref="State"/> in one write, guarded by the store's ETag.</summary>
    Task WriteAsync();
}

/// <summary>Publishes to a durable stream; completes only once the stream accepted the message.</summary>
internal interface IMessagePublisher
{
    /// <summary>Publishes the message with its trace context and send time (both optional) travelling with it.</summary>
    Task PublishAsync(string streamNamespace, string streamKey, IMessage message, string? traceParent, DateTime? sentUtc);
}

/// <summary>Decides at each named point whether to inject a fault (throw or crash).</summary>
public interface IFaultInjector
{
    /// <summary>Throws <see cref="SimulatedFaultException"/> or kills the process when a fault fires at <paramref name="point"/>.</summary>
    void At(string point, string component, Guid messageId);
}

/// <summary>Keeps a durable timer alive while the component has recovery work (an Orleans reminder in a grain).</summary>
internal interface IOutboxReminder
{
    Task RegisterAsync();

    Task UnregisterAsync();
}

/// <summary>Hands out producer incarnations: numbers from one durable counter, never given twice.</summary>
internal interface IProducerIncarnations
{
    /// <summary>A number never handed out before (a database sequence).</summary>
    Task<long> NextAsync();
}

/// <summary>What parking a message found.</summary>
internal enum ParkResult
{
    /// <summary>The message is parked now.</summary>
    Parked,

    /// <summary>The same message (same id) was parked already.</summary>
    AlreadyParked,

    /// <summary>Another message with the same producer and sequence is parked: a reused sequence.</summary>
    Conflict,
}

/// <summary>
/// Early arrivals that do not fit in the state's hold-back buffer, keyed (receiver, producer,
/// sequence). Rows never expire: they leave only once the component holds or applied them.
/// </summary>
internal interface IParkingLot
{
    /// <summary>Parks the message, with its trace parent and send time, unless a row with its producer and sequence exists.</summary>
    Task<ParkResult> ParkAsync(string receiver, HeldMessage message);

    /// <summary>Parked messages of the producer with a sequence above <paramref name="afterSequence"/>, ascending, at most <paramref name="limit"/>, with what they were parked with.</summary>
    Task<IReadOnlyList<HeldMessage>> ReadAsync(string receiver, string producerId, long afterSequence, int limit);

    /// <summary>Removes the rows of the producer with a sequence up to <paramref name="throughSequence"/> or in <paramref name="sequences"/>.</summary>
    Task RemoveAsync(string receiver, string producerId, long throughSequence, IReadOnlyCollection<long> sequences);
}

/// <summary>The component's business side as the processor sees it.</summary>
internal interface IMessageHandler<TData> where TData : class, new()
{
    /// <summary>Why the message cannot be processed, or null when it is valid.</summary>
    string? Validate(IMessage message);

    /// <summary>The new data for (data, message); outgoing messages are recorded in <paramref name="outgoing"/>. Pure.</summary>
    TData Handle(TData data, IMessage message, OutgoingMessages outgoing);

    /// <summary>Records a refused message that arrived on <paramref name="input"/> (idempotent for the same message and reason).</summary>
    Task RejectAsync(IMessage message, string input, string reason);

    /// <summary>Stores a message from <paramref name="input"/> the recoverability policy gave up on, with its origin (idempotent per producer and sequence; a later failure of the same message updates the record).</summary>
    Task DeadLetterAsync(IMessage message, string input, FailureRecord failure, MessageOrigin origin);
}

/// <summary>An injected infrastructure fault (the <c>throw</c> action): transient, retried until it is cleared.</summary>
public sealed class SimulatedFaultException(string point, string component, Guid messageId)
    : Exception($"simulated fault at {point} in {component} for message {messageId}")
{
    /// <summary>The fault point that fired.</summary>
    public string Point { get; } = point;
}

/// <summary>An injected handler bug (the <c>poison</c> action): a handler failure, dead-lettered after the policy's retries.</summary>
public sealed class PoisonFaultException(string point, string component, Guid messageId)
    : Exception($"simulated handler bug (poison) at {point} in {component} for message {messageId}")
{
    /// <summary>The fault point that fired.</summary>
    public string Point { get; } = point;
}

/// <summary>
/// The component's own code (its <c>Validate</c> or <c>Handle</c>) threw <see cref="Exception.InnerException"/>.
/// Only such failures can be the handler's; anything else that fails before the commit (a reminder,
/// the incarnation counter, the parking table) is infrastructure.
/// </summary>
public sealed class HandlerFailedException(string component, Exception inner)
    : Exception($"{component}: the handler threw {inner.GetType().Name}: {inner.Message}", inner);

/// <summary>Wakes the component at a due time (a grain timer), for a delayed retry; the recovery reminder is the durable backstop.</summary>
internal interface IRetryTimer
{
    /// <summary>Makes sure the component is called back no later than <paramref name="dueUtc"/>.</summary>
    void WakeAt(DateTime dueUtc);
}

/// <summary>
/// A state write failed (or its outcome is unknown): what this activation holds in memory can no
/// longer be trusted, so it must not acknowledge and must deactivate; the next activation reads storage.
/// </summary>
public class StateWriteFailedException(string message, Exception? inner) : Exception(message, inner);

/// <summary>Two activations wrote the same state: this one is stale and must not acknowledge.</summary>
public sealed class FencedActivationException(string component, Guid messageId, Exception inner)
    : StateWriteFailedException($"{component}: stale activation fenced by the storage ETag while processing {messageId}; the message will be retried against fresh state", inner);

/// <summary>The fallback inbox (unsequenced messages only) holds its maximum of ids still inside the retention bound: the message is refused for now, never an id forgotten early.</summary>
public sealed class InboxFullException(string component, int entries)
    : Exception($"{component}: inbox of unsequenced message ids holds {entries} ids that are all still inside the retention bound; refusing the unsequenced message for now");
