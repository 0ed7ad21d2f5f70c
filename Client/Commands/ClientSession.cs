using ExactlyOnce.Client.Output;
using ExactlyOnce.Hosting;
using ExactlyOnce.Hosting.Producers;
using ExactlyOnce.PostgreSql;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace ExactlyOnce.Client.Commands;

/// <summary>What a command needs: configuration, output, and (connected on first use) the cluster and its database.</summary>
public sealed class ClientSession : IAsyncDisposable
{
    private ClusterConnection? _connection;
    private NpgsqlDataSource? _database;

    public ClientSession(bool json, Func<ClusterSettings, ClusterSettings>? adjustCluster = null)
    {
        Configuration = ClusterConnection.LoadConfiguration();
        Cluster = ClusterSettings.From(Configuration);
        if (adjustCluster is not null)
        {
            Cluster = adjustCluster(Cluster);
        }

        Streams = StreamSettings.From(Configuration);
        ConfigurationKeys.RequireKnown(Configuration, ClusterConnection.Sections);
        Printer = new Printer(json);
    }

    /// <summary>A session for silos the command starts itself: their own cluster and service, both named <paramref name="name"/>.</summary>
    public static ClientSession ForOwnCluster(bool json, string name) =>
        new(json, c => new ClusterSettings { ClusterId = name, ServiceId = name, ConnectionString = c.ConnectionString });

    public IConfiguration Configuration { get; }

    public ClusterSettings Cluster { get; }

    public StreamSettings Streams { get; }

    public Printer Printer { get; }

    public string ServiceId => Cluster.ServiceId;

    /// <summary>The database, checked for reachability on first use.</summary>
    public async Task<NpgsqlDataSource> DatabaseAsync(CancellationToken cancellationToken)
    {
        if (_database is null)
        {
            await PostgresConnection.CheckReachableAsync(Cluster.ConnectionString, TimeSpan.FromSeconds(10), cancellationToken);
            _database = NpgsqlDataSource.Create(Cluster.ConnectionString);
        }

        return _database;
    }

    /// <summary>The client producers' outbox (needs the database and the cluster client's serializer).</summary>
    public async Task<ClientOutbox> OutboxAsync(CancellationToken cancellationToken)
    {
        var client = await ClientAsync(cancellationToken);
        return new ClientOutbox(await DatabaseAsync(cancellationToken), ServiceId, client.ServiceProvider.GetRequiredService<Serializer>());
    }

    /// <summary>The cluster client, connected on first use.</summary>
    public async Task<IClusterClient> ClientAsync(CancellationToken cancellationToken)
    {
        _connection ??= await ClusterConnection.ConnectAsync(Cluster, Streams, cancellationToken);
        return _connection.Client;
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }

        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }
}
