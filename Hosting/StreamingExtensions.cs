using ExactlyOnce.Grains;
using Orleans.Configuration;
using Orleans.Hosting;

namespace ExactlyOnce.Hosting;

/// <summary>Registers the durable stream provider the same way on silos and clients.</summary>
public static class StreamingExtensions
{
    /// <summary>The ADO.NET provider invariant for Npgsql.</summary>
    public const string NpgsqlInvariant = "Npgsql";

    /// <summary>Adds the durable stream provider (and its pulling agents) to a silo.</summary>
    public static ISiloBuilder AddDurableStreams(this ISiloBuilder builder, string connectionString, StreamSettings settings)
    {
        return builder.AddAdoNetStreams(OrleansNames.StreamProvider, configurator =>
        {
            configurator.ConfigureAdoNet(options => options.Configure(o => Apply(o, connectionString, settings)));
            configurator.ConfigurePartitioning(settings.QueueCount);
            configurator.ConfigurePullingAgent(options => options.Configure(o => o.MaxEventDeliveryTime = settings.MaxEventDeliveryTime));
            // Every subscription in this project is implicit: no pub-sub store is needed.
            configurator.ConfigureStreamPubSub(Orleans.Streams.StreamPubSubType.ImplicitOnly);
        });
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
