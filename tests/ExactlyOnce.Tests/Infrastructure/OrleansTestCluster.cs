using ExactlyOnce.PostgreSql;
using ExactlyOnce.Hosting;
using ExactlyOnce.Silo;
using Microsoft.Extensions.Configuration;
using Orleans.Configuration;
using Orleans.TestingHost;

namespace ExactlyOnce.Tests.Infrastructure;

/// <summary>
/// In-process TestCluster wired exactly as production silos: ADO.NET clustering (not the test
/// membership), grain storage, reminders and durable streams on a real PostgreSQL database.
/// </summary>
public static class OrleansTestCluster
{
    /// <summary>Host configuration key of the connection string, readable by silo configurators.</summary>
    public const string ConnectionKey = "ConnectionStrings:Orleans";

    /// <summary>Stream settings that keep redelivery tests short.</summary>
    public static StreamSettings FastStreams => new()
    {
        QueueCount = 4,
        VisibilityTimeout = TimeSpan.FromSeconds(20),
        MaxEventDeliveryTime = TimeSpan.FromSeconds(5),
        MaxAttempts = 5,
    };

    public static Task<TestCluster> DeployAsync(string connectionString, int silos, string? serviceId = null) =>
        DeployAsync(connectionString, silos, serviceId, _ => { });

    /// <summary>
    /// As <see cref="DeployAsync(string, int, string?)"/>, with <typeparamref name="TSiloOverride"/>
    /// configuring every silo after the production wiring (to stand in for an older release, say).
    /// </summary>
    public static Task<TestCluster> DeployAsync<TSiloOverride>(string connectionString, int silos, string? serviceId = null)
        where TSiloOverride : ISiloConfigurator, new() =>
        DeployAsync(connectionString, silos, serviceId, b => b.AddSiloBuilderConfigurator<TSiloOverride>());

    private static async Task<TestCluster> DeployAsync(string connectionString, int silos, string? serviceId, Action<TestClusterBuilder> configure)
    {
        var builder = new TestClusterBuilder((short)silos);
        builder.Options.UseTestClusterMembership = false;
        builder.Options.ClusterId = $"tc-{Guid.NewGuid():N}"[..16];
        builder.Options.ServiceId = serviceId ?? builder.Options.ClusterId;
        builder.ConfigureHostConfiguration(c => c.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [ConnectionKey] = connectionString,
        }));
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        builder.AddClientBuilderConfigurator<ClientConfigurator>();
        configure(builder);
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder) =>
            // Fault injection on for the fault-point tests; no crash rules in a test host's own process.
            siloBuilder.AddExactlyOnceInfrastructure(siloBuilder.Configuration[ConnectionKey]!, FastStreams, new FailureDetectionSettings(),
                faultInjection: new FaultInjectionSettings { Enabled = true });
    }

    private sealed class ClientConfigurator : IClientBuilderConfigurator
    {
        public void Configure(IConfiguration configuration, IClientBuilder clientBuilder)
        {
            clientBuilder.UseExactlyOnceCluster(configuration[ConnectionKey]!, FastStreams, TimeSpan.FromSeconds(2));
            clientBuilder.AddExactlyOnceProducers(o => o.ConnectionString = configuration[ConnectionKey]!);
        }
    }
}
