using ExactlyOnce.Faults;
using ExactlyOnce.Grains.Messages;
using ExactlyOnce.Messaging;

namespace ExactlyOnce.Client.Chaos;

/// <summary>What one chaos run does.</summary>
public sealed record ChaosOptions(
    int Silos,
    int Orders,
    int Items,
    double Duplicates,
    DeliveryMode Mode,
    int Kills,
    TimeSpan KillInterval,
    TimeSpan RestartDelay,
    IReadOnlyList<FaultRule> Faults,
    bool RestartDatabase,
    string? DatabaseRestartCommand,
    string SiloDll,
    int BasePort,
    string Run,
    TimeSpan DrainTimeout,
    TimeSpan DrainBound,
    double Removes = 0,
    bool Backlog = false,
    TimeSpan? Freeze = null);
