namespace ExactlyOnce.Client.Chaos;

/// <summary>The verdict of a chaos run, with its numbers.</summary>
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
    bool Quiescent,
    bool DrainedWithinBound,
    bool Ok);
