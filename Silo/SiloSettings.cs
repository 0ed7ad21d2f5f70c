using System.Net;
using ExactlyOnce.Hosting;
using Microsoft.Extensions.Configuration;

namespace ExactlyOnce.Silo;

/// <summary>Endpoints of one silo process. Section <c>Silo</c>.</summary>
public sealed class SiloSettings
{
    /// <summary>The section <c>Silo</c> for <see cref="ConfigurationKeys"/>.</summary>
    public static SettingsSection Section { get; } = new("Silo", typeof(SiloSettings));

    /// <summary>Silo-to-silo port (flag --silo-port). Default: 11111.</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>Port clients connect to (flag --gateway-port). Default: 30000.</summary>
    public int GatewayPort { get; set; } = 30000;

    /// <summary>
    /// IP address or host name other silos and clients use to reach this silo (flag --advertised-address).
    /// A host name is resolved at start (useful in containers). Default: 127.0.0.1.
    /// </summary>
    public string AdvertisedAddress { get; set; } = "127.0.0.1";

    /// <summary>Apply the schema when the silo starts (flag --apply-schema). Default: true.</summary>
    public bool ApplySchema { get; set; } = true;

    /// <summary>
    /// How long a graceful stop (SIGTERM, Ctrl+C) may take; past it the silo logs one line and exits
    /// with code <see cref="ShutdownGuard.TimedOutExitCode"/>. Default: 30 s.
    /// </summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How the console log lines are written (flag --log-format): <c>simple</c>, one line of text
    /// each (the default), or <c>json</c>, one JSON object per line (ASP.NET Core's JSON console
    /// formatter: Timestamp, EventId, LogLevel, Category, Message, Exception, State), for a log
    /// collector. The "silo started:" line and the one-line errors of the program stay plain text.
    /// </summary>
    public string LogFormat { get; set; } = SimpleLogs;

    /// <summary><see cref="LogFormat"/>: one line of text per log line.</summary>
    public const string SimpleLogs = "simple";

    /// <summary><see cref="LogFormat"/>: one JSON object per log line.</summary>
    public const string JsonLogs = "json";

    /// <summary>Whether <see cref="LogFormat"/> asks for JSON.</summary>
    public bool JsonLogLines => string.Equals(LogFormat, JsonLogs, StringComparison.OrdinalIgnoreCase);

    /// <summary>Reads and validates the section; throws <see cref="ConfigurationException"/> naming the bad field.</summary>
    public static SiloSettings From(IConfiguration configuration)
    {
        var settings = new SiloSettings();
        try
        {
            configuration.GetSection("Silo").Bind(settings);
        }
        catch (InvalidOperationException ex)
        {
            throw new ConfigurationException($"Silo: {ex.InnerException?.Message ?? ex.Message}", ex);
        }

        RequirePort(settings.SiloPort, nameof(SiloPort));
        RequirePort(settings.GatewayPort, nameof(GatewayPort));
        if (settings.SiloPort == settings.GatewayPort)
        {
            throw new ConfigurationException($"Silo:{nameof(SiloPort)} and Silo:{nameof(GatewayPort)} must differ (both {settings.SiloPort}).");
        }

        if (string.IsNullOrWhiteSpace(settings.AdvertisedAddress))
        {
            throw new ConfigurationException($"Silo:{nameof(AdvertisedAddress)} must not be empty.");
        }

        if (settings.ShutdownTimeout <= TimeSpan.Zero)
        {
            throw new ConfigurationException($"Silo:{nameof(ShutdownTimeout)} must be greater than zero, not {settings.ShutdownTimeout}.");
        }

        if (!string.Equals(settings.LogFormat, SimpleLogs, StringComparison.OrdinalIgnoreCase) && !settings.JsonLogLines)
        {
            throw new ConfigurationException($"Silo:{nameof(LogFormat)} must be {SimpleLogs} or {JsonLogs}, not '{settings.LogFormat}'.");
        }

        return settings;
    }

    /// <summary>The advertised address as an IP, resolving a host name if needed.</summary>
    public IPAddress ResolveAdvertisedAddress()
    {
        if (IPAddress.TryParse(AdvertisedAddress, out var ip))
        {
            return ip;
        }

        try
        {
            return Dns.GetHostAddresses(AdvertisedAddress)
                .FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
                ?? throw new ConfigurationException($"Silo:{nameof(AdvertisedAddress)} '{AdvertisedAddress}' has no IPv4 address.");
        }
        catch (System.Net.Sockets.SocketException ex) when (ex.SocketErrorCode == System.Net.Sockets.SocketError.TryAgain)
        {
            // The name server did not answer (a container whose DNS is not up yet): the environment, not the setting.
            throw new InfrastructureException($"Silo:{nameof(AdvertisedAddress)} '{AdvertisedAddress}' cannot be resolved now: {ex.Message}", ex);
        }
        catch (System.Net.Sockets.SocketException ex)
        {
            throw new ConfigurationException($"Silo:{nameof(AdvertisedAddress)} '{AdvertisedAddress}' cannot be resolved: {ex.Message}", ex);
        }
    }

    private static void RequirePort(int port, string field)
    {
        if (port is < 1 or > 65535)
        {
            throw new ConfigurationException($"Silo:{field} must be a port between 1 and 65535, not {port}.");
        }
    }
}
