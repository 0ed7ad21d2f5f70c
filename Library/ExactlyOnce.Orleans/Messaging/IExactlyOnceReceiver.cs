using Orleans.Concurrency;

namespace ExactlyOnce.Messaging;

/// <summary>
/// What every exactly-once component answers about its producers (used to retire finished runs).
/// A component's grain interface derives from it and from one of <see cref="IGrainWithStringKey"/>,
/// <see cref="IGrainWithGuidKey"/> or <see cref="IGrainWithIntegerKey"/> (see <see cref="StreamKeys"/>).
/// </summary>
public interface IExactlyOnceReceiver : IGrain
{
    /// <summary>The highest sequence of <paramref name="producerId"/> applied here: 0 when unknown, <see cref="long.MaxValue"/> when the producer is retired here.</summary>
    Task<long> MarkOf(string producerId);

    /// <summary>
    /// The protocol part of the state, with its stored sizes. A separate call from the business
    /// reads, because measuring the sizes serializes the state: readers that poll (verify waiting for
    /// quiescence) do not pay for it.
    /// </summary>
    [AlwaysInterleave]
    Task<ProtocolView> GetProtocol();

    /// <summary>The outbox depth and the blocked producers, without measuring sizes: for readers that poll.</summary>
    [AlwaysInterleave]
    Task<PendingWork> GetPendingWork();

    /// <summary>Drops the entries of run producers with an incarnation at or below <paramref name="watermark"/>, which are complete everywhere, and remembers the watermark.</summary>
    Task RetireRunsThrough(long watermark);
}
