using ExactlyOnce.Grains;
using ExactlyOnce.Hosting;
using Microsoft.Extensions.DependencyInjection;
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
        FailureDetectionSettings failureDetection)
    {
        silo.UseAdoNetClustering(o =>
        {
            o.Invariant = StreamingExtensions.NpgsqlInvariant;
            o.ConnectionString = connectionString;
        });
        silo.AddAdoNetGrainStorage(OrleansNames.GrainStorage, o =>
        {
            o.Invariant = StreamingExtensions.NpgsqlInvariant;
            o.ConnectionString = connectionString;
        });
        silo.UseAdoNetReminderService(o =>
        {
            o.Invariant = StreamingExtensions.NpgsqlInvariant;
            o.ConnectionString = connectionString;
        });
        silo.AddDurableStreams(connectionString, streams);
        silo.Services.Configure<ClusterMembershipOptions>(failureDetection.ApplyTo);
        return silo;
    }
}
