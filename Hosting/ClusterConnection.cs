using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Orleans.Configuration;

namespace ExactlyOnce.Hosting;

/// <summary>A started Orleans client connected to the cluster, and the host that owns it.</summary>
public sealed class ClusterConnection : IAsyncDisposable
{
    private readonly IHost _host;

    private ClusterConnection(IHost host, ClusterSettings settings)
    {
        _host = host;
        Settings = settings;
        Client = host.Services.GetRequiredService<IClusterClient>();
    }

    /// <summary>The connected client.</summary>
    public IClusterClient Client { get; }

    /// <summary>The cluster this client joined.</summary>
    public ClusterSettings Settings { get; }

    /// <summary>The configuration sections of ours a client binds; a key in one of them that no setting has stops it (<see cref="ConfigurationKeys"/>).</summary>
    public static IReadOnlyList<SettingsSection> Sections { get; } = [ClusterSettings.Section, StreamSettings.Section];

    /// <summary>Configuration of the client: appsettings.json next to the program, then environment variables.</summary>
    public static IConfiguration LoadConfiguration()
    {
        var configuration = new ConfigurationManager();
        configuration.SetBasePath(AppContext.BaseDirectory);
        configuration.AddJsonFile("appsettings.json", optional: true);
        configuration.AddEnvironmentVariables();
        return configuration;
    }

    /// <summary>
    /// Checks the database, then connects to a gateway of the cluster.
    /// Throws <see cref="InfrastructureException"/> with a one-line reason when either fails
    /// (<see cref="ConfigurationException"/> for a bad setting).
    /// </summary>
    public static Task<ClusterConnection> ConnectAsync(IConfiguration configuration, CancellationToken cancellationToken) =>
        ConnectAsync(ClusterSettings.From(configuration), StreamSettings.From(configuration), cancellationToken);

    /// <inheritdoc cref="ConnectAsync(IConfiguration, CancellationToken)"/>
    public static async Task<ClusterConnection> ConnectAsync(ClusterSettings settings, StreamSettings streams, CancellationToken cancellationToken)
    {
        await PostgresConnection.CheckReachableAsync(settings.ConnectionString, TimeSpan.FromSeconds(10), cancellationToken);
        await RequireActiveGatewayAsync(settings, cancellationToken);

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Critical);
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = settings.ClusterId;
                o.ServiceId = settings.ServiceId;
            });
            client.UseExactlyOnceCluster(PostgresConnection.WithoutPoolReset(settings.ConnectionString), streams, TimeSpan.FromSeconds(5));
        });

        var host = builder.Build();
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            await host.StartAsync(timeout.Token);
            return new ClusterConnection(host, settings);
        }
        catch (Exception ex)
        {
            host.Dispose();
            if (ex is ProgramException || cancellationToken.IsCancellationRequested)
            {
                throw; // Ctrl+C stays a cancellation (exit 130)
            }

            throw new InfrastructureException(
                $"no silo of cluster '{settings.ClusterId}' is reachable (is a silo running against the same database?): {ex.Message.Split('\n', 2)[0]}", ex);
        }
    }

    /// <summary>Fails fast, with a clear reason, when the membership table lists no active gateway.</summary>
    private static async Task RequireActiveGatewayAsync(ClusterSettings settings, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(settings.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            "SELECT count(*) FROM OrleansMembership WHERE DeploymentId = @cluster AND Status = 3 AND ProxyPort > 0", connection);
        command.Parameters.AddWithValue("cluster", settings.ClusterId);
        long active;
        try
        {
            active = (long)(await command.ExecuteScalarAsync(cancellationToken))!;
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            throw new InfrastructureException($"database '{connection.Database}' has no Orleans schema yet: start a silo or run 'ExactlyOnce.Silo migrate'.", ex);
        }

        if (active == 0)
        {
            throw new InfrastructureException($"no active silo of cluster '{settings.ClusterId}' is registered in database '{connection.Database}': start a silo first.");
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _host.StopAsync(TimeSpan.FromSeconds(5));
        }
        finally
        {
            _host.Dispose();
        }
    }
}
