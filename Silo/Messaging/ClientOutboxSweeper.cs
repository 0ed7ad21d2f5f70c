using ExactlyOnce.Grains;
using ExactlyOnce.Hosting.Producers;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace ExactlyOnce.Silo.Messaging;

/// <summary>
/// Publishes client messages that were recorded but never confirmed as published (the client died
/// between recording and publishing, or never ran again), so a producer's sequence has no
/// permanent gap. Every silo sweeps; SKIP LOCKED keeps two silos off the same rows, and a copy
/// published twice is a duplicate its receiver recognises by sequence.
/// </summary>
public sealed partial class ClientOutboxSweeper(
    ClientOutbox outbox,
    IClusterClient client,
    MessagingSettings settings,
    IHostApplicationLifetime lifetime,
    ILogger<ClientOutboxSweeper> logger) : SiloTimerService(lifetime, settings.ClientOutboxSweepPeriod)
{
    protected override async Task TickAsync(CancellationToken stoppingToken)
    {
        var streams = client.GetStreamProvider(OrleansNames.StreamProvider);
        var published = await outbox.SweepAsync(settings.ClientOutboxSweepAge, limit: 500, record =>
            streams.GetStream<object>(StreamId.Create(record.StreamNamespace, record.StreamKey)).OnNextAsync(record.Message), stoppingToken);
        if (published > 0)
        {
            Swept(logger, published, settings.ClientOutboxSweepAge);
        }
    }

    /// <summary>The rows stay unconfirmed; the next tick tries again.</summary>
    protected override void TickFailed(Exception exception) => SweepFailed(logger, exception);

    [LoggerMessage(1100, LogLevel.Information, "published {Count} client message(s) recorded but unconfirmed for more than {Age}")]
    private static partial void Swept(ILogger logger, int count, TimeSpan age);

    [LoggerMessage(1101, LogLevel.Warning, "sweeping unconfirmed client messages failed; retrying on the next tick")]
    private static partial void SweepFailed(ILogger logger, Exception exception);
}
