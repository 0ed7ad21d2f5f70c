using System.Net;
using System.Net.Sockets;
using ExactlyOnce.Hosting;
using Microsoft.Extensions.Configuration;

namespace ExactlyOnce.Silo.Http;

/// <summary>
/// The silo's HTTP endpoint (operator page, Orleans Dashboard, health checks, Prometheus metrics). Section <c>Http</c>.
/// </summary>
public sealed class HttpSettings
{
    /// <summary>The section and its keys, for the unknown-key check.</summary>
    public static SettingsSection Section { get; } = new("Http", typeof(HttpSettings));

    /// <summary>The configuration key of the port (flag --http-port).</summary>
    public const string PortKey = "Http:Port";

    /// <summary>The HTTP port of a silo on the default silo port.</summary>
    public const int DefaultPort = 8080;

    /// <summary>
    /// The port the endpoint listens on (all addresses); 0 turns the endpoint off. Default:
    /// 8080 + (silo port - 11111), so silos on one machine with consecutive silo ports get
    /// distinct HTTP ports.
    /// </summary>
    public int Port { get; init; }

    /// <summary>False when <see cref="Port"/> is 0.</summary>
    public bool Enabled => Port != 0;

    /// <summary>The configuration key of <see cref="Dashboard"/>.</summary>
    public const string DashboardKey = "Http:Dashboard";

    /// <summary>The path the Orleans Dashboard is served under.</summary>
    public const string DashboardPath = "/dashboard";

    /// <summary>
    /// Whether the endpoint also serves Microsoft.Orleans.Dashboard under <see cref="DashboardPath"/>
    /// (grains, methods, silos, reminders, live log). Default false: it costs silo CPU on every
    /// message even while nobody looks (docs/operations.md, "Orleans Dashboard"). It needs the endpoint on.
    /// </summary>
    public bool Dashboard { get; init; }

    /// <summary>The dashboard is served: the endpoint is on and <see cref="Dashboard"/> is true.</summary>
    public bool ServesDashboard => Enabled && Dashboard;

    /// <summary>The port a silo on <paramref name="siloPort"/> gets when <c>Http:Port</c> is not set.</summary>
    public static int DefaultFor(int siloPort) => DefaultPort + (siloPort - 11111);

    /// <summary>
    /// Reads <c>Http:Port</c>, or derives it from the silo port; throws <see cref="ProgramException"/>
    /// for a value that is not a port or one the silo already uses.
    /// </summary>
    public static HttpSettings From(IConfiguration configuration, SiloSettings silo)
    {
        var raw = configuration[PortKey];
        int port;
        if (string.IsNullOrWhiteSpace(raw))
        {
            port = DefaultFor(silo.SiloPort);
            if (port is < 1 or > 65535)
            {
                throw new ConfigurationException(
                    $"{PortKey} is not set and its default, 8080 + (Silo:SiloPort - 11111) = {port}, is not a port; set {PortKey} (0 turns the HTTP endpoint off).");
            }
        }
        else if (!int.TryParse(raw, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out port) || port > 65535)
        {
            throw new ConfigurationException($"{PortKey} must be a port between 1 and 65535, or 0 to turn the HTTP endpoint off, not '{raw}'.");
        }

        if (port != 0 && (port == silo.SiloPort || port == silo.GatewayPort))
        {
            throw new ConfigurationException($"{PortKey} {port} is already the silo's {(port == silo.SiloPort ? "Silo:SiloPort" : "Silo:GatewayPort")}; give the HTTP endpoint a port of its own.");
        }

        var dashboard = false;
        if (configuration[DashboardKey] is { } rawDashboard && !bool.TryParse(rawDashboard.Trim(), out dashboard))
        {
            throw new ConfigurationException($"{DashboardKey} must be true or false, not '{rawDashboard}'.");
        }

        return new HttpSettings { Port = port, Dashboard = dashboard };
    }

    /// <summary>
    /// Throws <see cref="ProgramException"/> when the port cannot be bound on all addresses (another
    /// process listens on it), so the silo stops with one line before it joins the cluster.
    /// </summary>
    public void EnsurePortIsFree()
    {
        if (!Enabled)
        {
            return;
        }

        try
        {
            // As Kestrel listens on "any": IPv6 with IPv4 mapped when the machine has IPv6, else IPv4.
            using var probe = Socket.OSSupportsIPv6
                ? new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp) { DualMode = true }
                : new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            // Connections of a process that just exited (TIME_WAIT) do not count, a listener does.
            probe.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            probe.Bind(new IPEndPoint(Socket.OSSupportsIPv6 ? IPAddress.IPv6Any : IPAddress.Any, Port));
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.AddressAlreadyInUse or SocketError.AccessDenied)
        {
            throw new InfrastructureException(InUseMessage(Port, ex.SocketErrorCode == SocketError.AccessDenied ? "may not be used by this user" : "is in use by another process"), ex);
        }
    }

    /// <summary>The one line for a port the endpoint cannot listen on.</summary>
    internal static string InUseMessage(int port, string why) =>
        $"{PortKey} {port} {why}; pick another port with --http-port (0 turns the HTTP endpoint off).";
}
