using System.Diagnostics;
using System.Diagnostics.Metrics;
using ExactlyOnce.Grains;
using ExactlyOnce.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;
using Orleans.Runtime;

namespace ExactlyOnce.Silo.Http;

/// <summary>
/// Ready part 1: this silo's own membership status (Orleans' <see cref="ISiloStatusOracle"/>) is
/// Active, and the host is not stopping. Joining, ShuttingDown, Stopping and Dead are not ready.
/// </summary>
internal sealed class MembershipCheck(IServiceProvider silo) : IHealthCheck
{
    public const string Name = "membership";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var oracle = silo.GetRequiredService<ISiloStatusOracle>();
        var status = oracle.CurrentStatus;
        var stopping = silo.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.IsCancellationRequested;
        return Task.FromResult(
            stopping ? HealthCheckResult.Unhealthy($"the silo is shutting down (membership status {status})")
            : status == SiloStatus.Active ? HealthCheckResult.Healthy($"silo {oracle.SiloAddress} is Active in the cluster")
            : HealthCheckResult.Unhealthy($"the membership status of this silo is {status}, not Active"));
    }
}

/// <summary>
/// Ready part 2: PostgreSQL (clustering, grain state, streams, reminders) answers <c>SELECT 1</c>
/// on a new connection within <see cref="Timeout"/>. The description names the failure, never the
/// connection string.
/// </summary>
internal sealed class DatabaseCheck(string connectionString) : IHealthCheck
{
    public const string Name = "database";

    /// <summary>How long opening the connection and the query may take together.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(Timeout);
        var clock = Stopwatch.StartNew();
        try
        {
            // The same probe the silo runs before it starts (unpooled: a pooled connection could pass
            // over a socket opened before an outage), so the reasons read the same.
            await PostgresConnection.CheckReachableAsync(connectionString, Timeout, deadline.Token);
            return HealthCheckResult.Healthy($"PostgreSQL answered SELECT 1 in {clock.ElapsedMilliseconds} ms");
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"PostgreSQL did not answer SELECT 1 within {Timeout.TotalSeconds:0} s");
        }
        catch (InfrastructureException ex)
        {
            return HealthCheckResult.Unhealthy(ex.Message);
        }
    }
}

/// <summary>
/// Ready part 3: the durable stream provider has started on this silo (its lifecycle stage ran and
/// has not begun stopping) and its pulling agents run. The agent count is Orleans' own gauge
/// <c>orleans-streams-persistent-stream-pulling-agents</c> (the agents this silo runs, one per queue
/// it owns), read in-process. A silo configured to keep its agents stopped
/// (<c>Streams:StartAgents false</c>) is ready only once they run.
/// </summary>
/// <remarks>
/// Orleans tells the pulling manager's run state only through a control command
/// (<c>PersistentStreamProviderCommand.GetAgentsState</c>), and each command gets a sequence number
/// that makes the manager skip any older Start/StopAgents still queued: a probe could silently
/// cancel an operator's command. So this check does not ask it; a run-time StopAgents on a silo
/// that owns no queue cannot be told from a running one (both run 0 agents).
/// </remarks>
internal sealed class StreamAgentsCheck(StreamProviderProbe probe, PullingAgentGauge gauge, IOptionsMonitor<StreamLifecycleOptions> lifecycle) : IHealthCheck
{
    public const string Name = "streams";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var provider = OrleansNames.StreamProvider;
        if (probe.Stopping)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy($"stream provider {provider} is stopping"));
        }

        if (!probe.Started)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy($"stream provider {provider} has not started yet (it starts once the silo is active)"));
        }

        var agents = gauge.Read(provider);
        var startedAtStartup = lifecycle.Get(provider).StartupState == StreamLifecycleOptions.RunState.AgentsStarted;
        if (!startedAtStartup && agents is null or 0)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy($"stream provider {provider} started with its pulling agents stopped (Streams:StartAgents false) and none runs"));
        }

        return Task.FromResult(HealthCheckResult.Healthy($"stream provider {provider} started, {agents ?? 0} pulling agent(s) running on this silo"));
    }
}

/// <summary>
/// Follows the durable stream provider's lifecycle: <see cref="Started"/> once the stage after the
/// provider's start stage runs (its pulling manager is initialized and, by default, its agents
/// started), <see cref="Stopping"/> from the moment that stage stops, before the provider closes.
/// </summary>
internal sealed class StreamProviderProbe(IOptionsMonitor<StreamLifecycleOptions> options) : ILifecycleParticipant<ISiloLifecycle>
{
    private volatile bool _started;
    private volatile bool _stopping;

    public bool Started => _started;

    public bool Stopping => _stopping;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(
            nameof(StreamProviderProbe),
            options.Get(OrleansNames.StreamProvider).StartStage + 1,
            _ =>
            {
                _started = true;
                return Task.CompletedTask;
            },
            _ =>
            {
                _stopping = true;
                return Task.CompletedTask;
            });
}

/// <summary>
/// Reads Orleans' gauge of running pulling agents (meter <c>Microsoft.Orleans</c>, instrument
/// <c>orleans-streams-persistent-stream-pulling-agents</c>, tag <c>name</c> = the provider) in-process.
/// </summary>
internal sealed class PullingAgentGauge : IDisposable
{
    private const string OrleansMeter = "Microsoft.Orleans";
    private const string Instrument = "orleans-streams-persistent-stream-pulling-agents";
    private readonly MeterListener _listener = new();
    private readonly Lock _gate = new();
    private readonly Dictionary<string, int> _latest = new(StringComparer.Ordinal);

    public PullingAgentGauge()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == OrleansMeter && instrument.Name == Instrument)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<int>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag is { Key: "name", Value: string provider })
                {
                    _latest[provider] = value;
                }
            }
        });
        _listener.Start();
    }

    /// <summary>The provider's agent count now; null when no pulling manager of that name reports one.</summary>
    public int? Read(string provider)
    {
        lock (_gate)
        {
            _latest.Clear();
            _listener.RecordObservableInstruments();
            return _latest.TryGetValue(provider, out var value) ? value : null;
        }
    }

    public void Dispose() => _listener.Dispose();
}
