namespace ExactlyOnce.Faults;

/// <summary>
/// Cluster-wide fault settings, changed at run time (key 0). Every silo polls it and applies the
/// newest version, which overrides that silo's configured faults.
/// </summary>
public interface IFaultControlGrain : IGrainWithIntegerKey
{
    /// <summary>
    /// Arms these rules on every silo (replacing earlier run-time rules); returns the new version.
    /// Throws <see cref="FaultInjectionRefusedException"/> when the cluster's
    /// <see cref="FaultInjectionPolicy"/> refuses them (so do <see cref="Clear"/> on a cluster with fault
    /// injection off).
    /// </summary>
    Task<int> Set(IReadOnlyList<FaultRule> rules);

    /// <summary>Switches every fault off on every silo; returns the new version.</summary>
    Task<int> Clear();

    /// <summary>The current run-time settings (null rules: none set, silos use their configuration).</summary>
    Task<FaultSettingsSnapshot> Get();

    /// <summary>Called by each silo every second: the version it applied and how many faults it fired so far.</summary>
    Task ReportApplied(string silo, int version, long fired);
}

/// <summary>Run-time fault settings, which silo applied which version, and how many faults each fired.</summary>
[GenerateSerializer, Immutable, Alias("fault-settings")]
public sealed record FaultSettingsSnapshot(
    [property: Id(0)] int Version,
    [property: Id(1)] IReadOnlyList<FaultRule>? Rules,
    [property: Id(2)] IReadOnlyDictionary<string, int> AppliedBySilo,
    [property: Id(3)] IReadOnlyDictionary<string, long> FiredBySilo)
{
    /// <summary>Faults fired on all silos that reported.</summary>
    public long TotalFired => FiredBySilo.Values.Sum();
}
