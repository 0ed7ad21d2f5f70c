using ExactlyOnce.Messaging;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;
using Orleans.Serialization;

namespace ExactlyOnce.PostgreSql;

/// <summary>Registration of the PostgreSQL stores (silo) and of exactly-once senders (client).</summary>
public static class ExactlyOncePostgreSqlExtensions
{
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
        services.TryAddSingleton(sp => new ClientOutbox(Database(sp), ServiceId(sp), sp.GetRequiredService<Serializer>()));
        services.AddHostedService<ClientOutboxSweeper>();
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
        services.TryAddSingleton(sp => new ClientOutbox(Database(sp), ServiceId(sp), sp.GetRequiredService<Serializer>()));
        services.TryAddSingleton(sp => new ExactlyOnceSender(
            sp.GetRequiredService<IClusterClient>(), sp.GetRequiredService<ClientOutbox>(), sp.GetRequiredService<IOptions<ProducerOptions>>()));
        return client;
    }

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
