namespace ExactlyOnce.Messaging;

/// <summary>
/// What a component still has to do on its own: outbox entries not yet sent, and producers whose
/// later messages wait in the state or the parking table for an earlier one (a gap, a delayed
/// retry, or a dead letter awaiting an operator). Cheap to read: no state is serialized.
/// </summary>
[GenerateSerializer, Immutable, Alias("pending-work")]
public sealed record PendingWork(
    [property: Id(0)] int Outbox,
    [property: Id(1)] IReadOnlyList<ProducerView> BlockedProducers)
{
    /// <summary>Nothing to send and nothing waiting.</summary>
    public bool IsEmpty => Outbox == 0 && BlockedProducers.Count == 0;
}
