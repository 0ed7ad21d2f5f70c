namespace ExactlyOnce.Hosting;

/// <summary>The exit codes of both programs, the client and the silo (README, "Exit codes").</summary>
public static class ExitCodes
{
    /// <summary>Success.</summary>
    public const int Ok = 0;

    /// <summary>A verification found lost, duplicated, ghost or inconsistent messages (or a health check failed).</summary>
    public const int VerificationFailed = 1;

    /// <summary>Bad usage or bad configuration: nothing was done.</summary>
    public const int UsageOrConfiguration = 2;

    /// <summary>A runtime or infrastructure failure: cluster or database unreachable, a stop that ran out of time.</summary>
    public const int RuntimeFailure = 3;

    /// <summary>Interrupted (Ctrl+C, 128 + SIGINT).</summary>
    public const int Interrupted = 130;
}
