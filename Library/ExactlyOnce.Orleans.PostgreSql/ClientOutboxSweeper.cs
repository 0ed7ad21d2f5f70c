using System.Diagnostics;
using ExactlyOnce.Diagnostics;
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
    /// <summary>Publishes in a producer span of its own (a child of the caller's span, if any), whose context travels with the message.</summary>
    public static async Task PublishAsync(IClusterClient client, string streamProvider, ClientRecord record)
    {
        var stream = client.GetStreamProvider(streamProvider).GetStream<object>(Orleans.Runtime.StreamId.Create(record.StreamNamespace, record.StreamKey));
        using var span = MessagingTracing.Source.StartActivity($"send {record.StreamNamespace}", ActivityKind.Producer);
        span?.SetTag("messaging.system", "orleans");
        span?.SetTag("messaging.destination.name", record.StreamNamespace);
        span?.SetTag("messaging.message.id", record.Message.MessageId.ToString());
        span?.SetTag("exactlyonce.producer", record.ProducerId);
        span?.SetTag("exactlyonce.sequence", record.Sequence);
        await MessagingTracing.WithContextAsync(MessagingTracing.CurrentTraceParent(), DateTime.UtcNow, () => stream.OnNextAsync(record.Message));
    }
}
