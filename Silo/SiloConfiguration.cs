using ExactlyOnce.Grains;
using ExactlyOnce.Grains.Billing;
using ExactlyOnce.Grains.Orders;
using ExactlyOnce.Faults;
using ExactlyOnce.Messaging;
using ExactlyOnce.Hosting;
using ExactlyOnce.Hosting.Producers;
using ExactlyOnce.PostgreSql;
using ExactlyOnce.Silo.Messaging;
using ExactlyOnce.Silo.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;

namespace ExactlyOnce.Silo;

/// <summary>Everything a silo of this project needs, in one place, shared by the host and the tests.</summary>
public static class SiloConfiguration
{
    /// <summary>
    /// PostgreSQL clustering, grain storage, reminders and durable streams, plus tuned failure
    /// detection. Endpoints and cluster identity are set by the caller (the host or a TestCluster).
    /// </summary>
    public static ISiloBuilder AddExactlyOnceInfrastructure(
        this ISiloBuilder silo,
        string connectionString,
        StreamSettings streams,
        FailureDetectionSettings failureDetection,
        MessagingSettings? messaging = null,
        StorageSettings? storage = null,
        FaultInjectionSettings? faultInjection = null)
    {
        messaging ??= new MessagingSettings();
        connectionString = PostgresConnection.WithoutPoolReset(connectionString);
        silo.UseAdoNetClustering(o =>
        {
            o.Invariant = StreamingExtensions.NpgsqlInvariant;
            o.ConnectionString = connectionString;
        });
        silo.AddDistinctKeyAdoNetGrainStorage(OrleansNames.GrainStorage, connectionString, (storage ?? new StorageSettings()).StateFormat);
        silo.UseAdoNetReminderService(o =>
        {
            o.Invariant = StreamingExtensions.NpgsqlInvariant;
            o.ConnectionString = connectionString;
        });
        silo.AddDurableStreams(connectionString, streams);
        silo.Services.Configure<ClusterMembershipOptions>(failureDetection.ApplyTo);
        silo.AddExactlyOnceMessaging(o => messaging.ApplyTo(o, streams));
        faultInjection ??= new FaultInjectionSettings();
        faultInjection.Validate(messaging.Faults);
        if (faultInjection.Enabled)
        {
            silo.AddExactlyOnceFaultInjection(faultInjection.ToPolicy(), messaging.Faults);
        }

        silo.AddPostgresMessagingStores(connectionString, messaging);
        return silo;
    }

    /// <summary>
    /// The library's PostgreSQL stores (ExactlyOnce.Orleans.PostgreSql: dead letters, parking table,
    /// producer incarnations, client-outbox sweeper) and the sample's own silo services around them
    /// (send audit and its purger, run retirement).
    /// </summary>
    public static ISiloBuilder AddPostgresMessagingStores(this ISiloBuilder silo, string connectionString, MessagingSettings messaging)
    {
        silo.AddExactlyOncePostgreSql(o =>
        {
            o.ConnectionString = connectionString;
            o.ClientOutboxSweepAge = messaging.ClientOutboxSweepAge;
            o.ClientOutboxSweepPeriod = messaging.ClientOutboxSweepPeriod;
        });
        var services = silo.Services;
        services.AddSingleton(_ => NpgsqlDataSource.Create(connectionString));
        if (messaging.RecordSends)
        {
            services.AddSingleton(sp => new PostgresSentMessageLog(
                sp.GetRequiredService<NpgsqlDataSource>(), sp.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId));
            services.AddSingleton<ISentMessageLog>(sp => sp.GetRequiredService<PostgresSentMessageLog>());
            services.AddHostedService<SentMessagePurger>();
        }

        services.AddSingleton(messaging);
        services.AddSingleton(sp => new RunRetirementStore(
            sp.GetRequiredService<NpgsqlDataSource>(), sp.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId));
        services.AddSingleton<ReceiverLookup>((grains, streamNamespace, key) => streamNamespace switch
        {
            StreamNamespaces.Orders => grains.GetGrain<IOrderGrain>(key),
            StreamNamespaces.Billing => grains.GetGrain<IBillingGrain>(key),
            _ => null,
        });
        services.AddSingleton<RunRetirer>();
        services.AddHostedService(sp => sp.GetRequiredService<RunRetirer>());
        return silo;
    }
}
