using System.Text.Json;
using ExactlyOnce.Hosting;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;

namespace ExactlyOnce.Silo.Http;

/// <summary>
/// The silo's HTTP endpoint: <c>/</c> (the operator page, <see cref="OperatorPage"/>), <c>/dashboard/</c> (the Orleans
/// Dashboard, <see cref="DashboardBridge"/>), <c>/health/live</c>, <c>/health/ready</c> and, with the Prometheus exporter, <c>/metrics</c> (docs/operations.md, "Endpoints").
/// </summary>
/// <remarks>
/// A hosted service of the silo's host that runs a small ASP.NET Core application (Kestrel) on
/// <see cref="HttpSettings.Port"/>, all addresses. It is registered before Orleans, so it starts
/// before the silo joins the cluster and stops after the silo has left it: <c>/health/ready</c>
/// answers 503 through startup and shutdown instead of refusing connections, and a port clash
/// stops the process before the silo joins. (In a <c>WebApplication</c> host the server starts
/// after every other hosted service and stops before them, Orleans included.) The checks run
/// against the silo's own services.
/// </remarks>
internal sealed class SiloHttpEndpoint(HttpSettings settings, IServiceProvider silo, ILoggerFactory loggers) : IHostedService, IAsyncDisposable
{
    private const string LiveTag = "live";
    private const string ReadyTag = "ready";
    private WebApplication? _app;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(SiloHttpEndpoint).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });
        // No configuration: ASPNETCORE_URLS / ASPNETCORE_HTTP_PORTS (set in the ASP.NET images) must not
        // add or override addresses; the port is Http:Port alone.
        ((IConfigurationBuilder)builder.Configuration).Sources.Clear();
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenAnyIP(settings.Port));
        builder.Services.AddRoutingCore();
        builder.Services.AddSingleton(loggers);
        // The silo's host owns signals and the console; this application only follows it.
        builder.Services.AddSingleton<IHostLifetime, FollowsTheSilo>();
        builder.Services.AddHealthChecks()
            .AddCheck("process", () => HealthCheckResult.Healthy("the silo process serves HTTP"), [LiveTag])
            .Add(Ready(MembershipCheck.Name, _ => new MembershipCheck(silo)))
            .Add(Ready(DatabaseCheck.Name, _ => silo.GetRequiredService<DatabaseCheck>()))
            .Add(Ready(StreamAgentsCheck.Name, _ => silo.GetRequiredService<StreamAgentsCheck>()));
        var dashboard = settings.ServesDashboard ? silo.GetRequiredService<DashboardBridge>() : null;
        dashboard?.Forward(builder.Services, silo);

        var app = builder.Build();
        // The operator page (/, /api/pipeline, /api/pipeline/local); its footer names the other paths.
        OperatorPage.Map(app, silo, dashboard is not null);
        if (dashboard is not null)
        {
            DashboardBridge.Map(app);
        }

        app.MapHealthChecks("/health/live", Options(LiveTag));
        app.MapHealthChecks("/health/ready", Options(ReadyTag));
        if (silo.GetService<MeterProvider>() is { } meters)
        {
            app.MapPrometheusScrapingEndpoint("/metrics", meters, configureBranchedPipeline: null, optionsName: null);
        }

        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (IOException ex) when (ex.InnerException is AddressInUseException)
        {
            await app.DisposeAsync();
            // Taken between HttpSettings.EnsurePortIsFree and here.
            throw new ConfigurationException(HttpSettings.InUseMessage(settings.Port, "is in use by another process"), ex);
        }

        _app = app;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is not null)
        {
            await _app.StopAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
            _app = null;
        }
    }

    private static HealthCheckRegistration Ready(string name, Func<IServiceProvider, IHealthCheck> check) =>
        new(name, check, HealthStatus.Unhealthy, [ReadyTag], DatabaseCheck.Timeout + TimeSpan.FromSeconds(1));

    private static HealthCheckOptions Options(string tag) => new()
    {
        Predicate = registration => registration.Tags.Contains(tag),
        ResponseWriter = WriteReportAsync,
        // Degraded is not used; anything but Healthy is 503.
        ResultStatusCodes =
        {
            [HealthStatus.Healthy] = StatusCodes.Status200OK,
            [HealthStatus.Degraded] = StatusCodes.Status503ServiceUnavailable,
            [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
        },
    };

    /// <summary><c>{"status":"Healthy","checks":[{"name":..,"status":..,"description":..}]}</c>; never exception details.</summary>
    private static Task WriteReportAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        var body = new HealthResponse(
            report.Status.ToString(),
            [.. report.Entries.Select(e => new HealthResponse.Check(e.Key, e.Value.Status.ToString(), e.Value.Description ?? ""))]);
        return JsonSerializer.SerializeAsync(context.Response.Body, body, HealthResponse.JsonOptions, context.RequestAborted);
    }

    /// <summary>The embedded application's lifetime: no signal handlers, no console messages.</summary>
    private sealed class FollowsTheSilo : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

/// <summary>The body of <c>/health/live</c> and <c>/health/ready</c>, also read by the <c>health</c> verb.</summary>
public sealed record HealthResponse(string Status, IReadOnlyList<HealthResponse.Check> Checks)
{
    /// <summary>camelCase names.</summary>
    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    /// <summary>One check: its name, Healthy or Unhealthy, and a one-line description.</summary>
    public sealed record Check(string Name, string Status, string Description);
}
