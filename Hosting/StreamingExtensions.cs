using ExactlyOnce.Grains;
using ExactlyOnce.PostgreSql;
using Npgsql;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Providers;
using Orleans.Providers.Streams.Common;
using Orleans.Runtime;
using Orleans.Streams;
using Microsoft.Extensions.Logging;

namespace ExactlyOnce.Hosting;

/// <summary>Registers the durable stream provider the same way on silos and clients.</summary>
public static class StreamingExtensions
{
    /// <summary>The ADO.NET provider invariant for Npgsql.</summary>
    public const string NpgsqlInvariant = "Npgsql";

    /// <summary>
    /// The library's durable streams (ExactlyOnce.Orleans.PostgreSql's AddExactlyOnceStreams) with
    /// this host's settings, plus the sample's own knobs: MaxAttempts (passed through, ignored by
    /// the stream SQL) and agents stopped at start (tests).
    /// </summary>
    public static ISiloBuilder AddDurableStreams(this ISiloBuilder builder, string connectionString, StreamSettings settings)
    {
        builder.AddExactlyOnceStreams(connectionString, settings.ApplyTo);
        builder.Services.Configure<AdoNetStreamOptions>(OrleansNames.StreamProvider, o => o.MaxAttempts = settings.MaxAttempts);
        if (!settings.StartAgents)
        {
            builder.Services.Configure<StreamLifecycleOptions>(OrleansNames.StreamProvider, o => o.StartupState = StreamLifecycleOptions.RunState.AgentsStopped);
            builder.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, AgentsStoppedAtStartup>();
        }

        return builder;
    }

    /// <summary>
    /// <c>StartupState = AgentsStopped</c> alone is not enough: the pulling manager is then only
    /// "initialized", and the first queue-distribution change (another silo joining) starts its
    /// agents anyway. Stopping them once the provider has started puts the manager in the stopped
    /// state, which ignores those changes until a <c>StartAgents</c> command.
    /// </summary>
    private sealed class AgentsStoppedAtStartup(IServiceProvider services) : ILifecycleParticipant<ISiloLifecycle>
    {
        public void Participate(ISiloLifecycle lifecycle) =>
            lifecycle.Subscribe(nameof(AgentsStoppedAtStartup), ServiceLifecycleStage.Active + 1, async _ =>
            {
                var provider = services.GetKeyedServices<IControllable>(OrleansNames.StreamProvider).OfType<PersistentStreamProvider>().Single();
                await provider.ExecuteCommand((int)PersistentStreamProviderCommand.StopAgents, null);
            });
    }

    /// <summary>
    /// A cluster client of this project's clusters: membership read from the PostgreSQL clustering
    /// table, gateways refreshed every <paramref name="gatewayListRefreshPeriod"/>, and the durable
    /// stream provider to publish with. The cluster and service ids are configured by the caller.
    /// </summary>
    public static IClientBuilder UseExactlyOnceCluster(this IClientBuilder builder, string connectionString, StreamSettings streams, TimeSpan gatewayListRefreshPeriod)
    {
        builder.Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = gatewayListRefreshPeriod);
        builder.UseAdoNetClustering(o =>
        {
            o.Invariant = NpgsqlInvariant;
            o.ConnectionString = connectionString;
        });
        return builder.AddExactlyOnceStreams(connectionString, streams.ApplyTo);
    }
}
