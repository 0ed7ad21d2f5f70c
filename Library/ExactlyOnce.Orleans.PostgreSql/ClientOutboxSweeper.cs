using ExactlyOnce.Messaging;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ExactlyOnce.PostgreSql;

/// <summary>
/// Publishes client messages that were recorded but never confirmed as published (the client died
/// between recording and publishing, or never ran again), so a producer's sequence has no
/// permanent gap. Every silo sweeps; SKIP LOCKED keeps two silos off the same rows, and a copy
/// published twice is a duplicate its receiver recognises by sequence.
/// </summary>
internal sealed class ClientOutboxSweeper(
    ClientOutbox outbox,
    IClusterClient client,
    IOptions<MessagingOptions> messaging,
    IOptions<PostgresMessagingOptions> options,
    IHostApplicationLifetime lifetime,
    ILogger<ClientOutboxSweeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Not before the silo runs: publishing needs the stream provider.
        var started = new TaskCompletionSource();
        await using var registration = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        await Task.WhenAny(started.Task, Task.Delay(Timeout.Infinite, stoppingToken));
        var age = options.Value.ClientOutboxSweepAge;
        using var timer = new PeriodicTimer(options.Value.ClientOutboxSweepPeriod);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    var published = await outbox.SweepAsync(age, limit: 500, record =>
                        ClientPublishing.PublishAsync(client, messaging.Value.StreamProvider, record), stoppingToken);
                    if (published > 0)
                    {
                        PostgreSqlLog.Swept(logger, published, age);
                    }
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    // The rows stay unconfirmed; the next tick tries again.
                    PostgreSqlLog.SweepFailed(logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The silo is stopping.
        }
    }
}

/// <summary>Publishing a recorded client message: first sends, re-sends and the sweeper alike.</summary>
internal static class ClientPublishing
{
    public static Task PublishAsync(IClusterClient client, string streamProvider, ClientRecord record) =>
        client.PublishMessageAsync(streamProvider, record.StreamNamespace, record.StreamKey, record.Message);
}
