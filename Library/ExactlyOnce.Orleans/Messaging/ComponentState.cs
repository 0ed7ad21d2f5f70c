
namespace ExactlyOnce.Messaging;

/// <summary>
/// Everything one component persists, in one row written by one write: its business data, how far
/// it has applied each producer's messages (dedup and order), the messages it still has to send
/// (outbox) and its own numbering as a producer. Keeping them together is what makes dedup and
/// delivery consistent with the data. The protocol part is O(producers + held), whatever the
/// number of messages processed.
/// </summary>
[GenerateSerializer, Alias("component-state`1")]
public sealed class ComponentState<TData> where TData : class, new()
{
    /// <summary>Business data (X or Y of the design).</summary>
    [Id(0)] public TData Data { get; set; } = new();

    /// <summary>
    /// Fallback dedup for unsequenced messages (and ids stored by version 1): processed ids with the
    /// time they were processed, oldest first, forgotten after the retention (see <see cref="InboxPolicy"/>).
    /// </summary>
    [Id(1)] public List<InboxEntry> Inbox { get; set; } = [];

    /// <summary>Committed outgoing messages not yet confirmed as published, with their final ids and payloads, in commit order.</summary>
    [Id(2)] public List<OutboxEntry> Outbox { get; set; } = [];

    /// <summary>Whether the recovery reminder is (or may be) registered.</summary>
    [Id(3)] public bool FlushReminderRegistered { get; set; }

    /// <summary>This component's own producer id (see <see cref="ProducerIds"/>), taken on its first sequenced send; null before.</summary>
    [Id(4)] public string? ProducerId { get; set; }

    /// <summary>The last sequence this component gave a message, per destination stream ("namespace/key").</summary>
    [Id(5)] public Dictionary<string, long> OutputSequences { get; set; } = [];

    /// <summary>Per producer that sent to this component: the mark, early arrivals held, and what is parked outside the state.</summary>
    [Id(6)] public Dictionary<string, ProducerProgress> Producers { get; set; } = [];

    /// <summary>
    /// The retirement watermark this component has applied: every run producer with an incarnation at
    /// or below it is complete everywhere, so its entry was dropped and any later copy is a duplicate.
    /// </summary>
    [Id(7)] public long RetiredRunsThrough { get; set; }
}

/// <summary>One processed message id (fallback dedup of unsequenced messages).</summary>
[GenerateSerializer, Immutable, Alias("inbox-entry")]
public sealed record InboxEntry([property: Id(0)] Guid MessageId, [property: Id(1)] DateTime ProcessedAtUtc);

/// <summary>
/// One committed outgoing message: the stored payload (with its producer id and sequence) is what
/// every (re)send publishes, byte for byte; it is never recomputed from current state.
/// </summary>
[GenerateSerializer, Immutable, Alias("outbox-entry")]
public sealed record OutboxEntry(
    [property: Id(0)] Guid MessageId,
    [property: Id(1)] Guid CausedBy,
    [property: Id(2)] string StreamNamespace,
    [property: Id(3)] string StreamKey,
    [property: Id(4)] IMessage Payload)
{
    /// <summary>The W3C <c>traceparent</c> of the span that committed it, sent along so the receiver's span is its child; null when there was none.</summary>
    [Id(5)] public string? TraceParent { get; init; }

    /// <summary>When it was committed (the receiver measures the latency from it); null in entries stored before this was kept.</summary>
    [Id(6)] public DateTime? CommittedUtc { get; init; }
}

/// <summary>How far one producer's messages to this component have been applied.</summary>
[GenerateSerializer, Alias("producer-progress")]
public sealed class ProducerProgress
{
    /// <summary>The highest sequence applied; every sequence below it was applied too, in order.</summary>
    [Id(0)] public long Mark { get; set; }

    /// <summary>Early arrivals (sequence above <see cref="Mark"/> + 1), committed and acknowledged, applied once the gap fills; ascending.</summary>
    [Id(1)] public List<HeldMessage> Held { get; set; } = [];

    /// <summary>The highest sequence parked in the parking table (held outside the state because the buffer was full); 0 when none.</summary>
    [Id(2)] public long ParkedHigh { get; set; }

    /// <summary>Messages of this producer wait for an earlier one: held in the state, or parked above the mark.</summary>
    internal bool HasWaiting => Held.Count > 0 || ParkedHigh > Mark;
}

/// <summary>
/// A message kept in the state until its turn: an early arrival, or the message whose turn it is
/// waiting for a delayed retry (<see cref="DueUtc"/>), with its failures so far and where it came
/// from (its trace and send time). A parked message is kept the same way in the parking table.
/// </summary>
[GenerateSerializer, Immutable, Alias("held-message")]
public sealed record HeldMessage(
    [property: Id(0)] long Sequence,
    [property: Id(1)] IMessage Message,
    [property: Id(2)] int Failures,
    [property: Id(3)] string? LastError)
{
    /// <summary>When it first failed; null while it never failed.</summary>
    [Id(4)] public DateTime? FirstFailureUtc { get; init; }

    /// <summary>Not retried before this time (a delayed retry); null: as soon as its turn comes.</summary>
    [Id(5)] public DateTime? DueUtc { get; init; }

    /// <summary>When it last failed; null while it never failed.</summary>
    [Id(6)] public DateTime? LastFailureUtc { get; init; }

    /// <summary>
    /// The W3C <c>traceparent</c> it arrived with (of the span that sent it): applied later, it still
    /// continues its own trace. Null when it came without one, or was held before this was kept.
    /// </summary>
    [Id(7)] public string? TraceParent { get; init; }

    /// <summary>When it was committed or sent (its latency is measured from it); null when unknown.</summary>
    [Id(8)] public DateTime? SentUtc { get; init; }

    internal MessageOrigin Origin => new(TraceParent, SentUtc);

    /// <summary>A message that starts waiting for its turn, with where it came from.</summary>
    internal static HeldMessage Waiting(IMessage message, MessageOrigin origin) =>
        new(message.Sequence, message, 0, null) { TraceParent = origin.TraceParent, SentUtc = origin.SentUtc };
}
