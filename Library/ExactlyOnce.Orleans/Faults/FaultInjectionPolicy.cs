namespace ExactlyOnce.Faults;

/// <summary>
/// Whether a silo takes fault rules at all, and crash rules in particular. Both are off unless the
/// silo's configuration turns them on: a production cluster must not let any client arm faults,
/// least of all one that kills the silo process.
/// </summary>
public sealed record FaultInjectionPolicy(bool Enabled, bool AllowCrash)
{
    /// <summary>The default: no fault rule is taken.</summary>
    public static FaultInjectionPolicy Off { get; } = new(false, false);

    /// <summary>Null when <paramref name="rules"/> may be armed here; otherwise why not, in one line.</summary>
    public string? Refusal(IEnumerable<FaultRule> rules) =>
        !Enabled ? "fault injection is off on this cluster (its silos run without FaultInjection:Enabled=true)"
        : !AllowCrash && rules.Any(r => r.Action == FaultAction.Crash)
            ? "crash faults are refused on this cluster (its silos run without FaultInjection:AllowCrash=true)"
            : null;
}

/// <summary>A client tried to arm or clear fault rules that the cluster's <see cref="FaultInjectionPolicy"/> refuses.</summary>
[GenerateSerializer, Alias("fault-injection-refused")]
public sealed class FaultInjectionRefusedException : Exception
{
    /// <summary>A refusal without a reason.</summary>
    public FaultInjectionRefusedException()
    {
    }

    /// <summary>A refusal saying which switch is off.</summary>
    public FaultInjectionRefusedException(string message) : base(message)
    {
    }
}
