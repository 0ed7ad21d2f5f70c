using Orleans.Concurrency;

namespace ExactlyOnce.Grains.Diagnostics;

/// <summary>
/// The implicit subscriber of the probe stream (key = grain key). It records what it received.
/// </summary>
public interface IProbeStreamGrain : IGrainWithGuidKey
{
    /// <summary>What the consumer has seen so far. Answers even while an event is being held.</summary>
    [AlwaysInterleave]
    Task<ProbeStreamStatus> GetStatus();
}

/// <summary>Deliveries seen by the probe consumer.</summary>
[GenerateSerializer, Immutable, Alias("probe-stream-status")]
public sealed record ProbeStreamStatus(
    [property: Id(0)] IReadOnlyList<Guid> Accepted,
    [property: Id(1)] IReadOnlyDictionary<Guid, int> Attempts,
    [property: Id(2)] IReadOnlyDictionary<Guid, int> HeldByProcess);
