using Microsoft.Extensions.Configuration;

namespace ExactlyOnce.Hosting;

/// <summary>Identity of the cluster and its database. Section <c>Cluster</c>, plus <c>ConnectionStrings:Orleans</c>.</summary>
public sealed class ClusterSettings
{
    /// <summary>Configuration key of the PostgreSQL connection string (environment: ConnectionStrings__Orleans).</summary>
    public const string ConnectionStringKey = "ConnectionStrings:Orleans";

    /// <summary>The section <c>Cluster</c> for <see cref="ConfigurationKeys"/> (the connection string has its own key).</summary>
    public static SettingsSection Section { get; } = new("Cluster", typeof(ClusterSettings), nameof(ConnectionString));

    /// <summary>Orleans ClusterId: silos and clients with the same id form one cluster. Default: exactly-once.</summary>
    public string ClusterId { get; set; } = "exactly-once";

    /// <summary>Orleans ServiceId: keys persisted state and reminders, survives redeployments. Default: pierogi-shop.</summary>
    public string ServiceId { get; set; } = "pierogi-shop";

    /// <summary>The Npgsql connection string. Required.</summary>
    public string ConnectionString { get; set; } = "";

    /// <summary>Reads and validates the settings; throws <see cref="ConfigurationException"/> naming the bad field.</summary>
    public static ClusterSettings From(IConfiguration configuration)
    {
        var settings = new ClusterSettings();
        configuration.GetSection("Cluster").Bind(settings);
        settings.ConnectionString = configuration[ConnectionStringKey] ?? "";
        if (string.IsNullOrWhiteSpace(settings.ClusterId))
        {
            throw new ConfigurationException($"Cluster:{nameof(ClusterId)} must not be empty.");
        }

        if (string.IsNullOrWhiteSpace(settings.ServiceId))
        {
            throw new ConfigurationException($"Cluster:{nameof(ServiceId)} must not be empty.");
        }

        PostgresConnection.Parse(settings.ConnectionString);
        return settings;
    }
}
