using ExactlyOnce.Messaging;
using ExactlyOnce.Hosting.Producers;
using ExactlyOnce.PostgreSql;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ExactlyOnce.Silo.Messaging;

/// <summary>Finds the component that consumes a stream: (namespace, key) → its receiver grain, or null for a stream no component consumes.</summary>
public delegate IExactlyOnceReceiver? ReceiverLookup(IGrainFactory grains, string streamNamespace, string streamKey);

/// <summary>
/// Retires finished runs so receivers forget them without a time assumption. The rule:
/// <list type="number">
/// <item>a run producer is sealed when its load ends (or, if its client died, once nobody recorded
/// for it for <see cref="MessagingSettings.RunIdleSealAfter"/>), under the row lock that hands out
/// its sequences: after the seal it gets no new sequence;</item>
/// <item>a sealed run is complete when nothing it recorded is unpublished and every destination's
/// receiver has applied through the last sequence it recorded there;</item>
/// <item>the watermark moves to the incarnation of the lowest run above it while that run is
/// complete (runs are taken in incarnation order, so every run at or below the watermark is
/// complete); every destination of the runs it passes is told the new watermark, which the
/// receiver stores in the same write that drops their entries; the watermark is stored last.</item>
/// </list>
/// A later copy from a run at or below a receiver's watermark is a duplicate by construction: the
/// receiver applied everything that run ever recorded for it. Named producers (grains, <c>cli</c>)
/// are never retired: their number is the number of names.
/// </summary>
public sealed class RunRetirer(
    RunRetirementStore store,
    IGrainFactory grains,
    ReceiverLookup receivers,
    MessagingSettings settings,
    IHostApplicationLifetime lifetime,
    ILogger<RunRetirer> logger) : SiloTimerService(lifetime, settings.RunRetirementPeriod)
{
    protected override Task TickAsync(CancellationToken stoppingToken) => RetireOnceAsync(stoppingToken);

    /// <summary>The watermark did not move; the next tick starts again from it.</summary>
    protected override void TickFailed(Exception exception) => SiloLog.RetireFailed(logger, exception);

    /// <summary>One pass of the rule; returns the watermark after it.</summary>
    public async Task<long> RetireOnceAsync(CancellationToken cancellationToken)
    {
        var watermark = await store.WatermarkAsync(cancellationToken);
        var next = watermark;
        var toTell = new HashSet<(string, string)>();
        foreach (var run in await store.RunsAboveAsync(watermark, limit: 50, cancellationToken))
        {
            if (run.Unpublished > 0 || (!run.Sealed && !await store.SealIdleAsync(run.ProducerId, settings.RunIdleSealAfter, cancellationToken)))
            {
                break;
            }

            var destinations = await store.DestinationsAsync(run.ProducerId, cancellationToken);
            if (!await CompleteAsync(run.ProducerId, destinations))
            {
                break;
            }

            next = run.Incarnation;
            toTell.UnionWith(destinations.Select(d => (d.StreamNamespace, d.StreamKey)));
        }

        if (next == watermark)
        {
            return watermark;
        }

        foreach (var (ns, key) in toTell)
        {
            if (receivers(grains, ns, key) is { } receiver)
            {
                await receiver.RetireRunsThrough(next);
            }
        }

        await store.AdvanceAsync(next, cancellationToken);
        SiloLog.Retired(logger, watermark, next, toTell.Count);
        return next;
    }

    private async Task<bool> CompleteAsync(string producerId, List<ProducerDestination> destinations)
    {
        foreach (var destination in destinations)
        {
            var receiver = receivers(grains, destination.StreamNamespace, destination.StreamKey);
            if (receiver is not null && await receiver.MarkOf(producerId) < destination.LastSequence)
            {
                return false;
            }
        }

        return true;
    }
}
