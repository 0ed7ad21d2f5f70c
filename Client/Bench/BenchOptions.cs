using ExactlyOnce.Grains.Messages;
using ExactlyOnce.Messaging;

namespace ExactlyOnce.Client.Bench;

/// <summary>What one bench run does. <see cref="Silos"/> null: the running cluster of the configuration.</summary>
public sealed record BenchOptions(
    int? Silos,
    int Orders,
    int Messages,
    int Concurrency,
    double? Rate,
    int Warmup,
    int Rounds,
    IReadOnlyList<DeliveryMode> Modes,
    string? SiloDll,
    int BasePort,
    string Name,
    TimeSpan Timeout,
    IReadOnlyList<string>? SiloArgs = null,
    string? CeilingScript = null,
    int CeilingSeconds = 15)
{
    /// <summary>Adds per order (the messages are spread evenly over the orders).</summary>
    public int ItemsPerOrder => Math.Max(1, Messages / Orders);
}
