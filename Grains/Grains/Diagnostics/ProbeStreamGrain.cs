using Orleans.Streams;

namespace ExactlyOnce.Grains.Diagnostics;

/// <summary>
/// Implicit subscriber of the probe stream, used to test delivery, redelivery after a failure and
/// takeover after a silo crash. Its state records every attempt, so a test can see what happened.
/// </summary>
[ImplicitStreamSubscription(StreamNamespaces.Probe)]
public sealed class ProbeStreamGrain(
    [PersistentState("probe-stream", OrleansNames.GrainStorage)] IPersistentState<ProbeStreamGrain.State> state)
    : Grain, IProbeStreamGrain, IAsyncObserver<ProbeEvent>
{
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var stream = this.GetStreamProvider(OrleansNames.StreamProvider)
            .GetStream<ProbeEvent>(StreamNamespaces.Probe, this.GetPrimaryKey());
        await stream.SubscribeAsync(this);
    }

    public Task<ProbeStreamStatus> GetStatus() => Task.FromResult(new ProbeStreamStatus(
        state.State.Accepted.ToArray(),
        new Dictionary<Guid, int>(state.State.Attempts),
        new Dictionary<Guid, int>(state.State.HeldByProcess)));

    public async Task OnNextAsync(ProbeEvent item, StreamSequenceToken? token = null)
    {
        var s = state.State;
        if (s.Accepted.Contains(item.EventId))
        {
            return;
        }

        s.Attempts[item.EventId] = s.Attempts.GetValueOrDefault(item.EventId) + 1;
        await state.WriteStateAsync();
        if (s.Attempts[item.EventId] <= item.FailAttempts)
        {
            throw new InvalidOperationException($"Probe consumer fails attempt {s.Attempts[item.EventId]} of event {item.EventId} on purpose.");
        }

        if (item.HoldSeconds > 0 && !s.HeldByProcess.ContainsKey(item.EventId))
        {
            // Persist who holds it first, so a test can find the process to kill.
            s.HeldByProcess[item.EventId] = Environment.ProcessId;
            await state.WriteStateAsync();
            await Task.Delay(TimeSpan.FromSeconds(item.HoldSeconds));
        }

        s.Accepted.Add(item.EventId);
        await state.WriteStateAsync();
    }

    public Task OnCompletedAsync() => Task.CompletedTask;

    public Task OnErrorAsync(Exception ex) => Task.CompletedTask;

    /// <summary>Persisted record of deliveries.</summary>
    [GenerateSerializer, Alias("probe-stream-state")]
    public sealed class State
    {
        /// <summary>Events accepted, in order.</summary>
        [Id(0)] public List<Guid> Accepted { get; set; } = [];

        /// <summary>Deliveries seen per event, failed ones included.</summary>
        [Id(1)] public Dictionary<Guid, int> Attempts { get; set; } = [];

        /// <summary>Process id of the silo that held an event on its first delivery.</summary>
        [Id(2)] public Dictionary<Guid, int> HeldByProcess { get; set; } = [];
    }
}
