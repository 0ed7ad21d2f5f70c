using ExactlyOnce.Diagnostics;
using System.Security.Cryptography;
using ExactlyOnce.Messaging;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Runtime.Hosting;
using Orleans.Storage;
using Orleans.Streams;

namespace ExactlyOnce.PostgreSql;

/// <summary>Registration of the durable streams and stores on PostgreSQL (silo) and of exactly-once senders (client).</summary>
public static class ExactlyOncePostgreSqlExtensions
{
    /// <summary>The ADO.NET invariant Orleans' providers load Npgsql by.</summary>
    private const string NpgsqlInvariant = "Npgsql";

    /// <summary>
    /// Adds the PostgreSQL stores of the exactly-once core to a silo (dead letters, rejected
    /// messages, the parking table, producer incarnations) and the sweeper that publishes client
    /// messages their sender recorded but did not confirm. Use it with
    /// <see cref="ExactlyOnceSiloBuilderExtensions.AddExactlyOnceMessaging"/>. The options are
    /// validated when the silo starts. Apply the schema first (<see cref="SchemaMigrator"/>).
    /// </summary>
    public static ISiloBuilder AddExactlyOncePostgreSql(this ISiloBuilder silo, Action<PostgresMessagingOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var services = silo.Services;
        services.AddOptions<PostgresMessagingOptions>().Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PostgresMessagingOptions>, OptionsValidator>());
        services.TryAddSingleton(sp => new ExactlyOnceDatabase(sp.GetRequiredService<IOptions<PostgresMessagingOptions>>().Value.ConnectionString));
        services.TryAddSingleton<IDeadLetterSink>(sp => new PostgresDeadLetterSink(Database(sp), ServiceId(sp), sp.GetRequiredService<Serializer>()));
        services.TryAddSingleton<IParkingLot>(sp => new PostgresParkingLot(Database(sp), ServiceId(sp), sp.GetRequiredService<Serializer>()));
        services.TryAddSingleton<IProducerIncarnations>(sp => new PostgresProducerIncarnations(Database(sp)));
        TryAddClientOutbox(services);
        services.AddHostedService<ClientOutboxSweeper>();
        return silo;
    }

    /// <summary>
    /// Adds grain storage on PostgreSQL (Orleans' ADO.NET storage, on the tables
    /// <see cref="SchemaMigrator"/> creates) under <paramref name="name"/> (default
    /// <see cref="ExactlyOnceNames.GrainStorage"/>), with two changes components need: every distinct
    /// string key has its own row (the stock provider stores keys that read as the same number, such
    /// as "7" and "007", in one row, so two grains would share a state), and states are written in
    /// <paramref name="format"/> (binary by default: about 4 times smaller than JSON) while both
    /// formats are read.
    /// </summary>
    public static ISiloBuilder AddExactlyOnceGrainStorage(this ISiloBuilder silo, string connectionString, string name = ExactlyOnceNames.GrainStorage, StateFormat format = StateFormat.Binary)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var innerName = $"{name}-adonet";
        silo.AddAdoNetGrainStorage(innerName, o =>
        {
            o.Invariant = NpgsqlInvariant;
            o.ConnectionString = connectionString;
        });
        // The provider takes a serializer keyed by its name before the silo's default (JSON), which
        // stays the reader of states written as JSON.
        silo.Services.AddKeyedSingleton<IGrainStorageSerializer>(innerName, (sp, _) => new StateSerializer(
            sp.GetRequiredService<Serializer>(), sp.GetRequiredService<IGrainStorageSerializer>(), format, sp.GetService<MessagingMetrics>()));
        silo.Services.AddGrainStorage(name, (services, _) => new DistinctKeyGrainStorage(services.GetRequiredKeyedService<IGrainStorage>(innerName)));
        return silo;
    }

    /// <summary>
    /// Adds <see cref="ExactlyOnceSender"/> (and its <see cref="ClientOutbox"/>) to an Orleans client:
    /// messages sent from outside the cluster, numbered and recorded before they are published.
    /// </summary>
    public static IClientBuilder AddExactlyOnceProducers(this IClientBuilder client, Action<ProducerOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var services = client.Services;
        services.AddOptions<ProducerOptions>().Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ProducerOptions>, OptionsValidator>());
        services.TryAddSingleton(sp => new ExactlyOnceDatabase(sp.GetRequiredService<IOptions<ProducerOptions>>().Value.ConnectionString));
        TryAddClientOutbox(services);
        services.TryAddSingleton(sp => new ExactlyOnceSender(
            sp.GetRequiredService<IClusterClient>(), sp.GetRequiredService<ClientOutbox>(), sp.GetRequiredService<IOptions<ProducerOptions>>()));
        return client;
    }

    /// <summary>
    /// Adds the durable stream provider on PostgreSQL (Orleans' ADO.NET streams, on the tables
    /// <see cref="SchemaMigrator"/> creates) as components need it: implicit subscriptions only, a
    /// claimant name per silo process (so a silo renews the leases of what it is processing and a
    /// dead silo's deliveries are taken over), and a failed confirm retried in the background for
    /// up to one visibility timeout. Invalid options throw at once, one line naming the option.
    /// </summary>
#pragma warning disable RS0026 // Two extension methods of different builder types, not overloads a caller can confuse.
    public static ISiloBuilder AddExactlyOnceStreams(this ISiloBuilder silo, string connectionString, Action<DurableStreamOptions>? configure = null)
    {
        var options = Validated(connectionString, configure);
        var claimant = WithClaimantName(connectionString);
        silo.AddAdoNetStreams(options.Name, provider =>
        {
            provider.ConfigureAdoNet(o => o.Configure(a => Apply(a, claimant, options)));
            provider.ConfigurePartitioning(options.QueueCount);
            provider.ConfigurePullingAgent(o => o.Configure(agent =>
            {
                agent.MaxEventDeliveryTime = options.MaxEventDeliveryTime;
                agent.GetQueueMsgsTimerPeriod = options.PollingPeriod;
            }));
            provider.ConfigureStreamPubSub(StreamPubSubType.ImplicitOnly);
        });
        WrapQueueAdapterFactory(silo.Services, options.Name, options.VisibilityTimeout);
        silo.Services.AddMetrics();
        silo.Services.TryAddSingleton(TimeProvider.System);
        silo.Services.AddHostedService(sp => new StreamBacklogGauge(
            connectionString, options.Name,
            () => sp.GetRequiredKeyedService<IQueueAdapterFactory>(options.Name).GetStreamQueueMapper().GetAllQueues().Select(q => q.ToString()),
            sp.GetRequiredService<IOptions<ClusterOptions>>(), sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<StreamBacklogGauge>>()));
        return silo;
    }

    /// <summary>The same stream provider on a client (publishing only), with the same <see cref="DurableStreamOptions.Name"/> and <see cref="DurableStreamOptions.QueueCount"/> as the silos.</summary>
    public static IClientBuilder AddExactlyOnceStreams(this IClientBuilder client, string connectionString, Action<DurableStreamOptions>? configure = null)
#pragma warning restore RS0026
    {
        var options = Validated(connectionString, configure);
        return client.AddAdoNetStreams(options.Name, provider =>
        {
            provider.ConfigureAdoNet(o => o.Configure(a => Apply(a, connectionString, options)));
            provider.ConfigurePartitioning(options.QueueCount);
            provider.ConfigureStreamPubSub(StreamPubSubType.ImplicitOnly);
        });
    }

    /// <summary>
    /// The connection string with a unique PostgreSQL application_name for this process: the stream
    /// SQL names the claimant of a delivery by it, so each silo process needs its own.
    /// </summary>
    internal static string WithClaimantName(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var suffix = $"-{Environment.ProcessId}-{RandomNumberGenerator.GetHexString(8, lowercase: true)}";
        var prefix = new string((builder.ApplicationName ?? "").Where(c => c is >= ' ' and <= '~').ToArray());
        if (prefix.Length == 0)
        {
            prefix = "eo-silo";
        }

        // PostgreSQL keeps 63 bytes of application_name.
        builder.ApplicationName = prefix[..Math.Min(prefix.Length, 63 - suffix.Length)] + suffix;
        return builder.ConnectionString;
    }

    private static DurableStreamOptions Validated(string connectionString, Action<DurableStreamOptions>? configure)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var options = new DurableStreamOptions();
        configure?.Invoke(options);
        return options.Validate() is { } problem ? throw new ArgumentException($"{nameof(DurableStreamOptions)}: {problem}", nameof(configure)) : options;
    }

    private static void Apply(AdoNetStreamOptions target, string connectionString, DurableStreamOptions options)
    {
        target.Invariant = NpgsqlInvariant;
        target.ConnectionString = connectionString;
        target.ExpiryTimeout = options.ExpiryTimeout;
        target.VisibilityTimeout = options.VisibilityTimeout;
        target.DeadLetterEvictionTimeout = options.DeadLetterRetention;
    }

    private static void WrapQueueAdapterFactory(IServiceCollection services, string name, TimeSpan retryConfirmsFor)
    {
        var original = services.Single(d => d.ServiceType == typeof(IQueueAdapterFactory) && d.IsKeyedService && Equals(d.ServiceKey, name));
        var create = original.KeyedImplementationFactory ?? throw new InvalidOperationException("the durable stream provider's queue adapter factory is not registered through a factory");
        services.Remove(original);
        services.AddKeyedSingleton<IQueueAdapterFactory>(name, (sp, key) =>
            new ConfirmRetryingQueueAdapterFactory((IQueueAdapterFactory)create(sp, key), retryConfirmsFor, sp.GetRequiredService<ILoggerFactory>()));
    }

    /// <summary>The outbox of client producers: the silo's sweeper and a client's sender share its one registration.</summary>
    private static void TryAddClientOutbox(IServiceCollection services) =>
        services.TryAddSingleton(sp => new ClientOutbox(Database(sp), ServiceId(sp), sp.GetRequiredService<Serializer>()));

    private static NpgsqlDataSource Database(IServiceProvider services) => services.GetRequiredService<ExactlyOnceDatabase>().Source;

    private static string ServiceId(IServiceProvider services) => services.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId;

    private sealed class OptionsValidator : IValidateOptions<PostgresMessagingOptions>, IValidateOptions<ProducerOptions>
    {
        public ValidateOptionsResult Validate(string? name, PostgresMessagingOptions options) => Result(nameof(PostgresMessagingOptions), options.Validate());

        public ValidateOptionsResult Validate(string? name, ProducerOptions options) => Result(nameof(ProducerOptions), options.Validate());

        private static ValidateOptionsResult Result(string options, string? problem) =>
            problem is null ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail($"{options}: {problem}");
    }
}

/// <summary>The library's own connection pool, so an application's NpgsqlDataSource registration is left alone.</summary>
internal sealed class ExactlyOnceDatabase(string connectionString) : IAsyncDisposable
{
    public NpgsqlDataSource Source { get; } = NpgsqlDataSource.Create(connectionString);

    public ValueTask DisposeAsync() => Source.DisposeAsync();
}
