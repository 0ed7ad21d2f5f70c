using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace ExactlyOnce.Faults;

/// <summary>Each silo polls the cluster-wide fault rules once a second and applies a new version.</summary>
internal sealed class FaultSettingsPoller(
    IGrainFactory grains,
    FaultInjector injector,
    ILocalSiloDetails silo,
    ILogger<FaultSettingsPoller> logger) : BackgroundService
{
    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var control = grains.GetGrain<IFaultControlGrain>(0);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var settings = await control.Get();
                if (settings.Version != injector.AppliedVersion)
                {
                    injector.Apply(settings.Version, settings.Rules);
                }

                await control.ReportApplied(silo.SiloAddress.ToString(), injector.AppliedVersion, injector.Fired);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // Transient (silo joining, control grain moving after a crash): try again next second.
                FaultLog.PollFailed(logger, ex);
            }

            try
            {
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
