namespace ExactlyOnce.Grains.Diagnostics;

/// <summary>
/// A persistent counter that says where it runs. Used by the quick-start demo and the
/// infrastructure tests to show a grain's state surviving the loss of its silo.
/// </summary>
public interface IProbeGrain : IGrainWithStringKey
{
    /// <summary>Adds one to the persisted counter and returns the new value.</summary>
    Task<ProbeReply> Increment();

    /// <summary>Reads the counter without changing it.</summary>
    Task<ProbeReply> Read();
}

/// <summary>The counter and the silo process that answered.</summary>
[GenerateSerializer, Immutable, Alias("probe-reply")]
public sealed record ProbeReply(
    [property: Id(0)] long Count,
    [property: Id(1)] string SiloAddress,
    [property: Id(2)] int ProcessId);
