using System.Diagnostics;
using ExactlyOnce.Messaging;
using Microsoft.Extensions.Logging;

namespace ExactlyOnce.Faults;

/// <summary>
/// The silo's fault switchboard: the rules from the silo's configuration, replaced at run time by
/// the cluster-wide rules of <see cref="IFaultControlGrain"/>. Off unless configured.
/// </summary>
public sealed class FaultInjector : IFaultInjector
{
    private readonly IReadOnlyList<FaultRule> _configured;
    private readonly ILogger<FaultInjector> _logger;
    private volatile IReadOnlyList<FaultRule> _rules;

    /// <summary>An injector that applies <paramref name="configured"/> until run-time rules replace them.</summary>
    public FaultInjector(IReadOnlyList<FaultRule> configured, ILogger<FaultInjector> logger)
    {
        _configured = configured;
        _rules = configured;
        _logger = logger;
    }

    /// <summary>The rules in force on this silo.</summary>
    public IReadOnlyList<FaultRule> Rules => _rules;

    /// <summary>
    /// How the last line of a silo killed by a crash fault begins (on stderr, flushed before the
    /// kill): the count of crash faults survives in the output, not in <see cref="Fired"/>. Whatever
    /// watches a silo's output (the sample's chaos runner) counts these lines.
    /// </summary>
    public const string CrashLinePrefix = "silo: crash fault at ";

    private long _fired;

    /// <summary>How many faults this silo fired since it started.</summary>
    public long Fired => Interlocked.Read(ref _fired);

    /// <summary>The cluster-wide version applied last (0: none yet, the configured rules hold).</summary>
    public int AppliedVersion { get; private set; }

    /// <summary>Applies a cluster-wide version; null rules mean "back to this silo's configuration".</summary>
    public void Apply(int version, IReadOnlyList<FaultRule>? rules)
    {
        _rules = rules ?? _configured;
        AppliedVersion = version;
        FaultLog.RulesApplied(_logger, version, _rules.Count == 0 ? "none" : string.Join(" ", _rules));
    }

    /// <inheritdoc/>
    public void At(string point, string component, Guid messageId)
    {
        foreach (var rule in _rules)
        {
            if (!rule.Matches(point, component, messageId) || Random.Shared.NextDouble() >= rule.Probability)
            {
                continue;
            }

            Interlocked.Increment(ref _fired);
            if (rule.Action == FaultAction.Crash)
            {
                // No cleanup at all: the process is gone as if by kill -9.
                Console.Error.WriteLine($"{CrashLinePrefix}{point} in {component} for message {messageId}; killing process {Environment.ProcessId}");
                Console.Error.Flush();
                Process.GetCurrentProcess().Kill();
            }

            if (rule.Action == FaultAction.Poison)
            {
                throw new PoisonFaultException(point, component, messageId);
            }

            throw new SimulatedFaultException(point, component, messageId);
        }
    }
}
