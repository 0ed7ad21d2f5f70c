namespace ExactlyOnce.Faults;

/// <summary>
/// Holds the cluster-wide run-time fault rules (persisted, so they survive the grain's silo). Rules
/// are taken only where the silos' <see cref="FaultInjectionPolicy"/> allows them (off by default);
/// the policy of the silo hosting this grain stands for the cluster's.
/// </summary>
public sealed class FaultControlGrain(
    [PersistentState("fault-control", ExactlyOnceNames.GrainStorage)] IPersistentState<FaultControlGrain.State> state,
    FaultInjectionPolicy policy) : Grain, IFaultControlGrain
{
    private readonly Dictionary<string, int> _applied = [];
    private readonly Dictionary<string, long> _fired = [];

    /// <inheritdoc/>
    public async Task<int> Set(IReadOnlyList<FaultRule> rules)
    {
        if (policy.Refusal(rules) is { } refusal)
        {
            throw new FaultInjectionRefusedException(refusal);
        }

        state.State.Version++;
        state.State.Rules = [.. rules];
        await state.WriteStateAsync();
        return state.State.Version;
    }

    /// <inheritdoc/>
    public Task<int> Clear() => Set([]);

    /// <inheritdoc/>
    public Task<FaultSettingsSnapshot> Get() =>
        Task.FromResult(new FaultSettingsSnapshot(state.State.Version, state.State.Rules, new Dictionary<string, int>(_applied), new Dictionary<string, long>(_fired)));

    /// <inheritdoc/>
    public Task ReportApplied(string silo, int version, long fired)
    {
        _applied[silo] = version;
        _fired[silo] = fired;
        return Task.CompletedTask;
    }

    /// <summary>Persisted run-time rules.</summary>
    [GenerateSerializer, Alias("fault-control-state")]
    public sealed class State
    {
        /// <summary>Version of the rule set, raised by every change.</summary>
        [Id(0)] public int Version { get; set; }

        /// <summary>Null until the first Set: silos keep their configured rules.</summary>
        [Id(1)] public List<FaultRule>? Rules { get; set; }
    }
}
