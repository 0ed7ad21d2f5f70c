using Microsoft.Extensions.Hosting;

namespace ExactlyOnce.Silo.Messaging;

/// <summary>
/// A silo background job on a fixed period: it starts once the host (and so the silo) runs, calls
/// <see cref="TickAsync"/> each period, and stops with the silo. A failing tick is reported through
/// <see cref="TickFailed"/> and never ends the job (nor, through the host, the silo): the next tick
/// tries again.
/// </summary>
public abstract class SiloTimerService(IHostApplicationLifetime lifetime, TimeSpan period) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource();
        await using var registration = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        await Task.WhenAny(started.Task, Task.Delay(Timeout.Infinite, stoppingToken));
        using var timer = new PeriodicTimer(period);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await TickAsync(stoppingToken);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    // Deliberately not fatal: the job's work is idempotent and the next tick redoes it.
                    TickFailed(ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The silo is stopping.
        }
    }

    /// <summary>One run of the job.</summary>
    protected abstract Task TickAsync(CancellationToken stoppingToken);

    /// <summary>Reports a failed tick (the job goes on).</summary>
    protected abstract void TickFailed(Exception exception);
}
