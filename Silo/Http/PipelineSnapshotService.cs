using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using Orleans.Runtime;
using Orleans.Runtime.Services;
using Orleans.Services;

namespace ExactlyOnce.Silo.Http;

/// <summary>
/// One silo's figures of the library's meter, as its <see cref="IPipelineSnapshotService"/> answers them.
/// </summary>
[GenerateSerializer, Immutable, Alias("ExactlyOnce.Silo.Http.SiloPipelineSnapshot")]
public sealed class SiloPipelineSnapshot
{
    /// <summary>The silo's address (Orleans' <c>SiloAddress</c> as text).</summary>
    [Id(0)] public string Silo { get; init; } = "";

    /// <summary>When the silo read its meter (UTC).</summary>
    [Id(1)] public DateTime TakenAt { get; init; }

    /// <summary>Whether the silo's meter has the histogram <c>exactlyonce.message.latency</c>.</summary>
    [Id(2)] public bool LatencyMeasured { get; init; }

    /// <summary>The gauge <c>exactlyonce.outbox.oldest_age</c> (s): the oldest outbox of this silo not emptied since it filled; 0 when none waits.</summary>
    [Id(3)] public double OutboxOldestAgeSeconds { get; init; }

    /// <summary>The figures per component, by component name.</summary>
    [Id(4)] public IReadOnlyList<ComponentFigures> Components { get; init; } = [];
}

/// <summary>One component's figures on one silo, since the silo started (the depths: now).</summary>
[GenerateSerializer, Immutable, Alias("ExactlyOnce.Silo.Http.ComponentFigures")]
public sealed class ComponentFigures
{
    /// <summary>The component (tag <c>component</c>: order, billing, ...).</summary>
    [Id(0)] public string Component { get; init; } = "";

    /// <summary><c>exactlyonce.messages.applied</c>.</summary>
    [Id(1)] public long Applied { get; init; }

    /// <summary>Applied per second over the last <see cref="PipelineMeterReader.RateWindow"/>.</summary>
    [Id(2)] public double AppliedPerSecond { get; init; }

    /// <summary><c>exactlyonce.messages.received</c> by its tag <c>outcome</c>.</summary>
    [Id(3)] public IReadOnlyDictionary<string, long> Received { get; init; } = new Dictionary<string, long>();

    /// <summary><c>exactlyonce.messages.retried</c>.</summary>
    [Id(4)] public long Retried { get; init; }

    /// <summary><c>exactlyonce.messages.dead_lettered</c>.</summary>
    [Id(5)] public long DeadLettered { get; init; }

    /// <summary><c>exactlyonce.messages.discarded</c>.</summary>
    [Id(6)] public long Discarded { get; init; }

    /// <summary><c>exactlyonce.outbox.depth</c>: committed outgoing messages not yet confirmed as published.</summary>
    [Id(7)] public long OutboxDepth { get; init; }

    /// <summary><c>exactlyonce.holdback.depth</c>: messages held in component states until their turn.</summary>
    [Id(8)] public long HeldDepth { get; init; }

    /// <summary><c>exactlyonce.producers.blocked</c>.</summary>
    [Id(9)] public long BlockedProducers { get; init; }

    /// <summary>Counts of <c>exactlyonce.message.latency</c> per bucket of <see cref="PipelineMeterReader.LatencyBounds"/> (one more above the last bound).</summary>
    [Id(10)] public IReadOnlyList<long> LatencyBuckets { get; init; } = [];

    /// <summary>The largest latency recorded (s).</summary>
    [Id(11)] public double LatencyMax { get; init; }
}

/// <summary>A grain service on every silo: Orleans addresses one per silo, so each answers with its own meter.</summary>
[Alias("ExactlyOnce.Silo.Http.IPipelineSnapshotService")]
public interface IPipelineSnapshotService : IGrainService
{
    /// <summary>This silo's figures now.</summary>
    [Alias("Snapshot"), ReadOnly, AlwaysInterleave]
    Task<SiloPipelineSnapshot> Snapshot();
}

/// <summary>The silo's answer: <see cref="PipelineMeterReader.Snapshot"/>.</summary>
internal sealed class PipelineSnapshotService(GrainId grainId, Orleans.Runtime.Silo silo, ILoggerFactory loggers, PipelineMeterReader reader, ILocalSiloDetails local)
    : GrainService(grainId, silo, loggers), IPipelineSnapshotService
{
    public Task<SiloPipelineSnapshot> Snapshot() => Task.FromResult(reader.Snapshot(local.SiloAddress.ToString()));
}

/// <summary>Reaches the <see cref="IPipelineSnapshotService"/> of a given silo.</summary>
internal sealed class PipelineSnapshotClient(IServiceProvider services) : GrainServiceClient<IPipelineSnapshotService>(services)
{
    public IPipelineSnapshotService On(SiloAddress silo) => GetGrainService(silo);
}
