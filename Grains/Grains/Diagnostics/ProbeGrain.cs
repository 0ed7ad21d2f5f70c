using ExactlyOnce.Grains.Diagnostics;
using Orleans.Runtime;

namespace ExactlyOnce.Grains.Diagnostics;

/// <summary>A persisted counter that reports the silo and process it runs in.</summary>
public sealed class ProbeGrain(
    [PersistentState("probe", OrleansNames.GrainStorage)] IPersistentState<ProbeGrain.State> state,
    ILocalSiloDetails silo) : Grain, IProbeGrain
{
    public async Task<ProbeReply> Increment()
    {
        state.State.Count++;
        await state.WriteStateAsync();
        return Reply();
    }

    public Task<ProbeReply> Read() => Task.FromResult(Reply());

    private ProbeReply Reply() => new(state.State.Count, silo.SiloAddress.ToString(), Environment.ProcessId);

    /// <summary>Persisted state of the probe.</summary>
    [GenerateSerializer, Alias("probe-state")]
    public sealed class State
    {
        /// <summary>How many increments were committed.</summary>
        [Id(0)] public long Count { get; set; }
    }
}
