namespace ExactlyOnce.Messaging;

/// <summary>
/// The protocol part of a component's state, for operators: what it remembers to deduplicate and
/// order, and how big its stored state is.
/// </summary>
[GenerateSerializer, Immutable, Alias("protocol-view")]
public sealed record ProtocolView(
    [property: Id(0)] IReadOnlyList<ProducerView> Producers,
    [property: Id(1)] int FallbackIds,
    [property: Id(2)] int StateBytes,
    [property: Id(3)] int DataBytes,
    [property: Id(4)] string? OwnProducerId,
    [property: Id(5)] bool RecoveryReminder)
{
    /// <summary>Everything dedup keeps: one mark per producer, the held messages and the fallback ids.</summary>
    public int DedupEntries => Producers.Count + Producers.Sum(p => p.Held) + FallbackIds;

    /// <summary>The stored size minus the business data: marks, buffers, outbox, counters.</summary>
    public int ProtocolBytes => StateBytes - DataBytes;
}

/// <summary>One producer as a receiver sees it: the mark, what is held in the state, whether more is parked, and the sequence it waits for.</summary>
[GenerateSerializer, Immutable, Alias("producer-view")]
public sealed record ProducerView(
    [property: Id(0)] string ProducerId,
    [property: Id(1)] long Mark,
    [property: Id(2)] int Held,
    [property: Id(3)] long ParkedHigh,
    [property: Id(4)] int HeldFailures,
    [property: Id(5)] string? LastError)
{
    /// <summary>Blocked: something arrived after a gap; the receiver waits for <see cref="Mark"/> + 1.</summary>
    public bool Blocked => Held > 0 || ParkedHigh > Mark;
}
