namespace ExactlyOnce.Grains.Diagnostics;

/// <summary>
/// An event on the <see cref="StreamNamespaces.Probe"/> stream, for infrastructure tests.
/// </summary>
/// <param name="EventId">Sender-chosen identity.</param>
/// <param name="FailAttempts">The consumer throws on this many deliveries before accepting it.</param>
/// <param name="HoldSeconds">
/// On its first delivery the consumer holds the event this long before accepting it, so that a
/// test can kill the silo while the event is in flight.
/// </param>
[GenerateSerializer, Immutable, Alias("probe-event")]
public sealed record ProbeEvent(
    [property: Id(0)] Guid EventId,
    [property: Id(1)] int FailAttempts = 0,
    [property: Id(2)] int HoldSeconds = 0);
