using ExactlyOnce.Grains.Messages;

namespace ExactlyOnce.Grains.Messaging;

/// <summary>The component's persisted state (an Orleans <c>IPersistentState</c> in a grain; a fake in unit tests).</summary>
public interface IStateStore<TState>
{
    /// <summary>The state as last read or written.</summary>
    TState State { get; set; }

    /// <summary>Writes <see cref="State"/> in one write, guarded by the store's ETag.</summary>
    Task WriteAsync();
}

/// <summary>Publishes to a durable stream; completes only once the stream accepted the message.</summary>
public interface IMessagePublisher
{
    Task PublishAsync(string streamNamespace, string streamKey, IMessage message);
}

/// <summary>Decides at each named point whether to inject a fault (throw or crash).</summary>
public interface IFaultInjector
{
    /// <summary>Throws <see cref="SimulatedFaultException"/> or kills the process when a fault fires at <paramref name="point"/>.</summary>
    void At(string point, string component, Guid messageId);
}

/// <summary>Keeps a durable timer alive while the outbox is not empty (an Orleans reminder in a grain).</summary>
public interface IOutboxReminder
{
    Task RegisterAsync();

    Task UnregisterAsync();
}

/// <summary>An injected fault (the <c>throw</c> action).</summary>
public sealed class SimulatedFaultException(string point, string component, Guid messageId)
    : Exception($"simulated fault at {point} in {component} for message {messageId}")
{
    public string Point { get; } = point;
}

/// <summary>Two activations wrote the same state: this one is stale and must not acknowledge.</summary>
public sealed class FencedActivationException(string component, Guid messageId, Exception inner)
    : Exception($"{component}: stale activation fenced by the storage ETag while processing {messageId}; the message will be retried against fresh state", inner);

/// <summary>The inbox is full of ids still inside the retention bound: the message is refused for now (back-pressure), never an id forgotten early.</summary>
public sealed class InboxFullException(string component, int entries)
    : Exception($"{component}: inbox holds {entries} ids that are all still inside the retention bound; refusing the message for now");
