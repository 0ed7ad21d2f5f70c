using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Dashboard;

namespace ExactlyOnce.Silo.Http;

/// <summary>
/// Serves Microsoft.Orleans.Dashboard from the silo's HTTP endpoint, under <see cref="HttpSettings.DashboardPath"/>.
/// </summary>
/// <remarks>
/// The dashboard's services (its grain client, assets, live log) are registered in the silo by
/// <c>AddDashboard</c>, while <c>MapOrleansDashboard</c> resolves them from the web application's
/// container. Our endpoint is an application of its own (it starts before the silo and stops after
/// it, see <see cref="SiloHttpEndpoint"/>), so each singleton the dashboard registered in the silo is
/// registered again in the endpoint's container as a forward to the silo's one instance. The types
/// are taken from the silo's registrations, not named here: most are internal to the package.
/// </remarks>
internal sealed class DashboardBridge(IServiceCollection siloServices)
{
    /// <summary>Adds the dashboard to the silo and keeps its registrations for the endpoint.</summary>
    public static void AddTo(ISiloBuilder silo)
    {
        silo.AddDashboard();
        silo.Services.AddSingleton(new DashboardBridge(silo.Services));
    }

    /// <summary>Forwards the dashboard's singletons, and its options, from <paramref name="silo"/> into <paramref name="endpoint"/>.</summary>
    public void Forward(IServiceCollection endpoint, IServiceProvider silo)
    {
        var package = typeof(DashboardOptions).Assembly;
        var forwarded = siloServices
            .Where(d => d is { Lifetime: ServiceLifetime.Singleton, IsKeyedService: false }
                        && d.ServiceType.Assembly == package && !d.ServiceType.ContainsGenericParameters)
            .Select(d => d.ServiceType)
            .Distinct();
        foreach (var type in forwarded)
        {
            endpoint.AddSingleton(type, _ => silo.GetRequiredService(type));
        }

        endpoint.AddSingleton(_ => silo.GetRequiredService<IOptions<DashboardOptions>>());
    }

    /// <summary>Maps the dashboard's page and API under <see cref="HttpSettings.DashboardPath"/>.</summary>
    public static void Map(WebApplication app) => app.MapOrleansDashboard(HttpSettings.DashboardPath);
}
