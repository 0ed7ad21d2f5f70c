using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ExactlyOnce.Silo.Messaging;

/// <summary>
/// Keeps the send audit bounded: once a minute each silo deletes the audit rows older than
/// <see cref="MessagingSettings.SentRetention"/>, at most 10 batches of 5,000 per pass.
/// </summary>
public sealed class SentMessagePurger(
    PostgresSentMessageLog log,
    MessagingSettings settings,
    IHostApplicationLifetime lifetime,
    ILogger<SentMessagePurger> logger) : SiloTimerService(lifetime, TimeSpan.FromMinutes(1))
{
    private const int Batch = 5_000;

    protected override async Task TickAsync(CancellationToken stoppingToken)
    {
        var purged = 0;
        for (var pass = 0; pass < 10; pass++)
        {
            var deleted = await log.PurgeAsync(settings.SentRetention, Batch, stoppingToken);
            purged += deleted;
            if (deleted < Batch)
            {
                break;
            }
        }

        if (purged > 0)
        {
            SiloLog.Purged(logger, purged, settings.SentRetention);
        }
    }

    protected override void TickFailed(Exception exception) => SiloLog.PurgeFailed(logger, exception);
}
