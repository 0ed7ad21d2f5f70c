using ExactlyOnce.Grains.Messages;

namespace ExactlyOnce.Grains.Messaging;

/// <summary>
/// Everything one component persists, in one row written by one write: its business data, the
/// ids it has processed (inbox) and the messages it still has to send (outbox). Keeping the three
/// together is what makes dedup and delivery consistent with the data.
/// </summary>
[GenerateSerializer, Alias("component-state`1")]
public sealed class ComponentState<TData> where TData : class, new()
{
    /// <summary>Business data (X or Y of the design).</summary>
    [Id(0)] public TData Data { get; set; } = new();

    /// <summary>Processed message ids with the time they were processed, oldest first (bounded: see <see cref="InboxPolicy"/>).</summary>
    [Id(1)] public List<InboxEntry> Inbox { get; set; } = [];

    /// <summary>Committed outgoing messages not yet confirmed as published, with their final ids and payloads.</summary>
    [Id(2)] public List<OutboxEntry> Outbox { get; set; } = [];

    /// <summary>Whether the outbox-flush reminder is (or may be) registered.</summary>
    [Id(3)] public bool FlushReminderRegistered { get; set; }
}

/// <summary>One processed message id.</summary>
[GenerateSerializer, Immutable, Alias("inbox-entry")]
public sealed record InboxEntry([property: Id(0)] Guid MessageId, [property: Id(1)] DateTime ProcessedAtUtc);

/// <summary>
/// One committed outgoing message: the stored payload is what every (re)send publishes, byte for
/// byte; it is never recomputed from current state.
/// </summary>
[GenerateSerializer, Immutable, Alias("outbox-entry")]
public sealed record OutboxEntry(
    [property: Id(0)] Guid MessageId,
    [property: Id(1)] Guid CausedBy,
    [property: Id(2)] string StreamNamespace,
    [property: Id(3)] string StreamKey,
    [property: Id(4)] IMessage Payload);
