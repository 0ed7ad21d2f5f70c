using ExactlyOnce.Hosting;
using Microsoft.Extensions.Configuration;

namespace ExactlyOnce.Silo.Http;

/// <summary>Export of metrics and traces over OTLP. Section <c>Telemetry</c>.</summary>
public sealed class TelemetrySettings
{
    /// <summary>The section and its keys, for the unknown-key check.</summary>
    public static SettingsSection Section { get; } = new("Telemetry", typeof(TelemetrySettings));

    /// <summary>The configuration key of the OTLP endpoint.</summary>
    public const string OtlpEndpointKey = "Telemetry:OtlpEndpoint";

    /// <summary>
    /// Where to send metrics and traces over OTLP (an http or https URL, e.g. http://collector:4317);
    /// null (the default) exports nothing over OTLP. The Prometheus endpoint does not depend on it.
    /// </summary>
    public Uri? OtlpEndpoint { get; init; }

    /// <summary>Reads and validates the section; throws <see cref="ProgramException"/> for a bad URL.</summary>
    public static TelemetrySettings From(IConfiguration configuration)
    {
        var raw = configuration[OtlpEndpointKey];
        if (string.IsNullOrWhiteSpace(raw))
        {
            return new TelemetrySettings();
        }

        if (!Uri.TryCreate(raw, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new ConfigurationException($"{OtlpEndpointKey} must be an http or https URL such as http://collector:4317, not '{raw}'.");
        }

        return new TelemetrySettings { OtlpEndpoint = uri };
    }
}
