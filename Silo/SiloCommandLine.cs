using ExactlyOnce.Hosting;
using Microsoft.Extensions.Configuration;

namespace ExactlyOnce.Silo;

/// <summary>Builds the silo's configuration: appsettings.json, then environment, then the command line.</summary>
public static class SiloCommandLine
{
    /// <summary>Flags and the configuration keys they set.</summary>
    public static readonly IReadOnlyDictionary<string, string> Flags = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["--silo-port"] = "Silo:SiloPort",
        ["--gateway-port"] = "Silo:GatewayPort",
        ["--advertised-address"] = "Silo:AdvertisedAddress",
        ["--apply-schema"] = "Silo:ApplySchema",
        ["--cluster-id"] = "Cluster:ClusterId",
        ["--service-id"] = "Cluster:ServiceId",
        ["--connection-string"] = ClusterSettings.ConnectionStringKey,
        ["--http-port"] = Http.HttpSettings.PortKey,
    };

    /// <summary>Reads the sources; throws <see cref="StartupException"/> for an unknown flag or a flag without a value.</summary>
    public static IConfiguration BuildConfiguration(string[] args)
    {
        for (var i = 0; i < args.Length; i += 2)
        {
            var arg = args[i];
            var known = Flags.ContainsKey(arg) || (arg.StartsWith("--", StringComparison.Ordinal) && arg.Contains(':'));
            if (!known)
            {
                throw new StartupException($"unknown argument '{arg}'; flags: {string.Join(", ", Flags.Keys)}, or --Section:Key value.");
            }

            if (i + 1 >= args.Length || args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                throw new StartupException($"flag '{arg}' needs a value.");
            }
        }

        var configuration = new ConfigurationManager();
        configuration.SetBasePath(AppContext.BaseDirectory);
        configuration.AddJsonFile("appsettings.json", optional: true);
        configuration.AddEnvironmentVariables();
        configuration.AddCommandLine(args, Flags.ToDictionary(kv => kv.Key, kv => kv.Value));
        return configuration;
    }
}
