using ExactlyOnce.Hosting;
using ExactlyOnce.PostgreSql;
using Microsoft.Extensions.Configuration;

namespace ExactlyOnce.Silo.Storage;

/// <summary>Settings of grain state storage. Section <c>Storage</c>.</summary>
public sealed class StorageSettings
{
    /// <summary>The section <c>Storage</c> for <see cref="ConfigurationKeys"/>.</summary>
    public static SettingsSection Section { get; } = new("Storage", typeof(StorageSettings));

    /// <summary>binary (default) or json; either setting reads states written in both.</summary>
    public StateFormat StateFormat { get; set; } = StateFormat.Binary;

    /// <summary>Reads and validates the section; throws <see cref="ConfigurationException"/> naming the bad entry.</summary>
    public static StorageSettings From(IConfiguration configuration)
    {
        var text = configuration["Storage:StateFormat"];
        return text?.Trim().ToLowerInvariant() switch
        {
            null or "" or "binary" => new StorageSettings { StateFormat = StateFormat.Binary },
            "json" => new StorageSettings { StateFormat = StateFormat.Json },
            _ => throw new ConfigurationException($"Storage:StateFormat must be binary or json, not '{text}'."),
        };
    }
}
