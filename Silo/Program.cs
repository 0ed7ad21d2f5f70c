using ExactlyOnce.Hosting;
using ExactlyOnce.Hosting.Schema;
using ExactlyOnce.Silo;
using ExactlyOnce.Silo.Http;
using ExactlyOnce.PostgreSql;
using ExactlyOnce.Silo.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

// Usage (ExactlyOnce.Silo --help):
//   ExactlyOnce.Silo [--silo-port N] [--gateway-port N] [--advertised-address A] [--cluster-id ID]
//                    [--service-id ID] [--connection-string CS] [--http-port N] [--Section:Key value ...]
//   ExactlyOnce.Silo migrate [--connection-string CS]   apply the schema once and exit
//   ExactlyOnce.Silo health [--http-port N]             exit 0 when this silo's /health/ready is healthy, 1 if not, 3 if unreachable
// Exit codes (Hosting/ExitCodes.cs): 0 ok, 1 health check failed, 2 usage or configuration,
// 3 runtime or infrastructure failure, 130 interrupted (Ctrl+C).
var invocation = SiloCommandLine.Parse(args, Console.Out, Console.Error);
if (invocation.ExitCode is { } exit)
{
    return exit;
}

var verb = invocation.Verb;
var options = invocation.Options;
var isMigrate = verb == "migrate";
try
{
    var configuration = SiloCommandLine.BuildConfiguration(options);
    if (verb == "health")
    {
        return await SiloHealth.CheckReadyAsync(HttpSettings.From(configuration, SiloSettings.From(configuration)));
    }

    var cluster = ClusterSettings.From(configuration);
    if (isMigrate)
    {
        SiloCommandLine.RequireKnownKeys(configuration);
        await PostgresConnection.CheckReachableAsync(cluster.ConnectionString, TimeSpan.FromSeconds(10));
        var applied = await SampleSchema.Migrator(cluster.ConnectionString).ApplyAsync();
        Console.WriteLine(applied.Count == 0
            ? "schema is up to date"
            : $"applied {applied.Count} schema script(s): {string.Join(", ", applied)}");
        return 0;
    }

    var silo = SiloSettings.From(configuration);
    var streams = StreamSettings.From(configuration);
    var failureDetection = FailureDetectionSettings.From(configuration);
    var messaging = MessagingSettings.From(configuration);
    var storage = StorageSettings.From(configuration);
    var faultInjection = FaultInjectionSettings.From(configuration, messaging);
    var http = HttpSettings.From(configuration, silo);
    var telemetry = TelemetrySettings.From(configuration);
    SiloCommandLine.RequireKnownKeys(configuration);
    var advertised = silo.ResolveAdvertisedAddress();

    await PostgresConnection.CheckReachableAsync(cluster.ConnectionString, TimeSpan.FromSeconds(10));
    if (silo.ApplySchema)
    {
        await SampleSchema.Migrator(cluster.ConnectionString).ApplyAsync();
    }

    var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
    {
        // Defaults off: they would re-add appsettings.json after the command line and override it.
        DisableDefaults = true,
        ContentRootPath = AppContext.BaseDirectory,
        Configuration = (ConfigurationManager)configuration,
    });
    builder.Logging.AddConfiguration(configuration.GetSection("Logging"));
    if (silo.JsonLogLines)
    {
        builder.Logging.AddJsonConsole(o =>
        {
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
            o.UseUtcTimestamp = true;
        });
    }
    else
    {
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });
    }
    builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = silo.ShutdownTimeout);
    // Before UseOrleans: the HTTP endpoint starts before the silo and stops after it.
    builder.Services.AddSiloHttpEndpoint(http, telemetry, cluster.ConnectionString);
    builder.UseOrleans(orleans =>
    {
        orleans.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = cluster.ClusterId;
            o.ServiceId = cluster.ServiceId;
        });
        orleans.ConfigureEndpoints(advertised, silo.SiloPort, silo.GatewayPort, listenOnAnyHostAddress: true);
        orleans.AddExactlyOnceInfrastructure(cluster.ConnectionString, streams, failureDetection, messaging, storage, faultInjection);
        if (http.ServesDashboard)
        {
            DashboardBridge.AddTo(orleans);
        }
    });

    using var host = builder.Build();
    // Bounds the stop (Silo:ShutdownTimeout; a second signal exits at once): Orleans may never finish
    // stopping while its database is unreachable.
    using var shutdownGuard = new ShutdownGuard(host, silo.ShutdownTimeout);
    await host.StartAsync();
    var faultsNote = !faultInjection.Enabled ? "" : faultInjection.AllowCrash ? " fault injection ON (crash allowed)" : " fault injection ON";
    Console.WriteLine($"silo started: {advertised}:{silo.SiloPort} gateway {silo.GatewayPort} cluster {cluster.ClusterId} pid {Environment.ProcessId}{(http.Enabled ? $" http http://{advertised}:{http.Port}{(http.ServesDashboard ? $" dashboard http://{advertised}:{http.Port}{HttpSettings.DashboardPath}/" : "")}" : " http off")}{faultsNote}");
    await host.WaitForShutdownAsync();
    // Still under the guard's deadline: disposing the services can wait on the database too.
    host.Dispose();
    return shutdownGuard.ExitCode;
}
catch (ProgramException ex)
{
    // ConfigurationException: 2; InfrastructureException (PostgreSQL unreachable, ...): 3.
    Console.Error.WriteLine($"silo: {ex.Message}");
    return ex.ExitCode;
}
catch (Exception ex) when (ex is not OutOfMemoryException)
{
    // A failure while starting or running Orleans (port in use, schema catalog missing a key, ...):
    // one line for the user; the details are in the log above.
    Console.Error.WriteLine($"silo: failed: {ex.GetType().Name}: {ex.Message.Split('\n', 2)[0]}");
    return ExitCodes.RuntimeFailure;
}
