using System.Security.Cryptography;
using ExactlyOnce.Grains;
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
    /// Adds the durable stream provider (and its pulling agents) to a silo. Its connections carry an
    /// Application Name unique to this silo (<see cref="WithClaimantName"/>): the stream SQL records
    /// it as the claimant of the rows the silo dequeues, to tell an abandoned row from its own.
    /// </summary>
    public static ISiloBuilder AddDurableStreams(this ISiloBuilder builder, string connectionString, StreamSettings settings)
    {
        connectionString = WithClaimantName(connectionString);
        return builder.AddAdoNetStreams(OrleansNames.StreamProvider, configurator =>
        {
            configurator.ConfigureAdoNet(options => options.Configure(o => Apply(o, connectionString, settings)));
            configurator.ConfigurePartitioning(settings.QueueCount);
            configurator.ConfigurePullingAgent(options => options.Configure(o =>
            {
                o.MaxEventDeliveryTime = settings.MaxEventDeliveryTime;
                o.GetQueueMsgsTimerPeriod = settings.PollingPeriod;
            }));
            if (!settings.StartAgents)
            {
                configurator.ConfigureLifecycle(options => options.Configure(o => o.StartupState = StreamLifecycleOptions.RunState.AgentsStopped));
            }

            // Every subscription in this project is implicit: no pub-sub store is needed.
            configurator.ConfigureStreamPubSub(Orleans.Streams.StreamPubSubType.ImplicitOnly);
        }).ConfigureServices(services =>
        {
            WrapQueueAdapterFactory(services, settings.VisibilityTimeout);
            if (!settings.StartAgents)
            {
                services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, AgentsStoppedAtStartup>();
            }
        });
    }

    /// <summary>
    /// Puts <see cref="ConfirmRetryingQueueAdapterFactory"/> around the provider's own queue adapter
    /// factory (an internal type, reached through its keyed registration), which the provider then
    /// resolves in its place.
    /// </summary>
    private static void WrapQueueAdapterFactory(IServiceCollection services, TimeSpan retryConfirmsFor)
    {
        var original = services.Single(d => d.ServiceType == typeof(IQueueAdapterFactory) && d.IsKeyedService && Equals(d.ServiceKey, OrleansNames.StreamProvider));
        var create = original.KeyedImplementationFactory ?? throw new InvalidOperationException("the durable stream provider's queue adapter factory is not registered through a factory");
        services.Remove(original);
        services.AddKeyedSingleton<IQueueAdapterFactory>(OrleansNames.StreamProvider, (sp, key) =>
            new ConfirmRetryingQueueAdapterFactory((IQueueAdapterFactory)create(sp, key), retryConfirmsFor, sp.GetRequiredService<ILoggerFactory>()));
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
        return builder.AddDurableStreams(connectionString, streams);
    }

    /// <summary>Adds the durable stream provider to a client, so that it can publish.</summary>
    public static IClientBuilder AddDurableStreams(this IClientBuilder builder, string connectionString, StreamSettings settings)
    {
        return builder.AddAdoNetStreams(OrleansNames.StreamProvider, configurator =>
        {
            configurator.ConfigureAdoNet(options => options.Configure(o => Apply(o, connectionString, settings)));
            configurator.ConfigurePartitioning(settings.QueueCount);
            configurator.ConfigureStreamPubSub(Orleans.Streams.StreamPubSubType.ImplicitOnly);
        });
    }

    /// <summary>
    /// The connection string with an Application Name unique to this call: the configured name (or
    /// <c>eo-silo</c>), then the process id and 8 random hex digits, printable ASCII and at most 63
    /// characters (PostgreSQL keeps no more). A configured name is kept as the prefix, shortened if
    /// needed, so the suffix that makes it unique is never cut.
    /// </summary>
    public static string WithClaimantName(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var suffix = $"-{Environment.ProcessId}-{RandomNumberGenerator.GetHexString(8, lowercase: true)}";
        var prefix = new string((builder.ApplicationName ?? "").Where(c => c is >= ' ' and <= '~').ToArray());
        if (prefix.Length == 0)
        {
            prefix = "eo-silo";
        }

        builder.ApplicationName = prefix[..Math.Min(prefix.Length, 63 - suffix.Length)] + suffix;
        return builder.ConnectionString;
    }

    private static void Apply(AdoNetStreamOptions options, string connectionString, StreamSettings settings)
    {
        options.Invariant = NpgsqlInvariant;
        options.ConnectionString = connectionString;
        options.ExpiryTimeout = settings.ExpiryTimeout;
        options.VisibilityTimeout = settings.VisibilityTimeout;
        options.MaxAttempts = settings.MaxAttempts;
        options.DeadLetterEvictionTimeout = settings.DeadLetterRetention;
    }
}
