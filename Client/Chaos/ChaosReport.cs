namespace ExactlyOnce.Client.Chaos;

/// <summary>The verdict of a chaos run, with its numbers.</summary>
/// <remarks>
/// <see cref="FaultsFired"/>: the crash faults (<see cref="CrashFaultsFired"/>, counted from the
/// line each crashed silo wrote before it died) plus the throw and poison faults the silos reported
/// (a lower bound: a silo's count dies with it, and the reports with the silo holding them).
/// </remarks>
public sealed record ChaosReport(
    string Run,
    string Mode,
    int Silos,
    int Sent,
    int Unique,
    int Kills,
    int CrashFaultRestarts,
    int DatabaseRestarts,
    long FaultsFired,
    long CrashFaultsFired,
    double LoadSeconds,
    double SecondsToQuiescenceAfterLastFault,
    double DrainBoundSeconds,
    IReadOnlyList<double?> RecoverySecondsPerKill,
    int Lost,
    int Duplicated,
    int Ghost,
    int Inconsistent,
    int Reordered,
    long StreamDeadLetters,
    long SequencedDeadLetters,
    bool Backlog,
    long? StreamRowsWhenAgentsStarted,
    long StreamRowsAtFirstKill,
    double SecondsFromChaosStartToQuiescence,
    double? FrozenSeconds,
    bool? ZombieExitedByItself,
    bool Quiescent,
    bool DrainedWithinBound,
    bool Ok);
