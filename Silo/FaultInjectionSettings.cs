using ExactlyOnce.Faults;
using ExactlyOnce.Hosting;
using Microsoft.Extensions.Configuration;

namespace ExactlyOnce.Silo;

/// <summary>
/// Section <c>FaultInjection</c>: whether this silo takes fault rules (configured under
/// <c>Faults</c>, or armed by a client at run time) and crash rules in particular. Both default to
/// false, so a silo shipped as is polls for no rules and refuses <c>faults set</c>; the demo, the
/// chaos runner and the tests turn them on for the silos they start.
/// </summary>
public sealed class FaultInjectionSettings
{
    /// <summary>The section <c>FaultInjection</c> for <see cref="ConfigurationKeys"/>.</summary>
    public static SettingsSection Section { get; } = new("FaultInjection", typeof(FaultInjectionSettings));

    /// <summary>Take fault rules. Default: false.</summary>
    public bool Enabled { get; set; }

    /// <summary>Take <c>crash</c> rules too (the silo process kills itself). Needs <see cref="Enabled"/>. Default: false.</summary>
    public bool AllowCrash { get; set; }

    /// <summary>What the fault-control grain and the silo's wiring check.</summary>
    public FaultInjectionPolicy ToPolicy() => new(Enabled, AllowCrash);

    /// <summary>
    /// Reads and validates the section against the rules configured in <paramref name="messaging"/>;
    /// throws <see cref="ConfigurationException"/> naming the key that cannot work.
    /// </summary>
    public static FaultInjectionSettings From(IConfiguration configuration, MessagingSettings messaging)
    {
        var settings = new FaultInjectionSettings();
        try
        {
            configuration.GetSection("FaultInjection").Bind(settings);
        }
        catch (InvalidOperationException ex)
        {
            throw new ConfigurationException($"FaultInjection: {ex.Message}", ex);
        }

        settings.Validate(messaging.Faults);
        return settings;
    }

    /// <summary>Throws <see cref="ConfigurationException"/> when a configured rule is not allowed, or the switches contradict each other.</summary>
    public void Validate(IReadOnlyList<FaultRule> configuredRules)
    {
        if (AllowCrash && !Enabled)
        {
            throw new ConfigurationException("FaultInjection:AllowCrash needs FaultInjection:Enabled=true.");
        }

        for (var i = 0; i < configuredRules.Count; i++)
        {
            if (!Enabled)
            {
                throw new ConfigurationException($"Faults:{i} arms a fault rule, but fault injection is off: set FaultInjection:Enabled=true (for tests and demos, never in production).");
            }

            if (configuredRules[i].Action == FaultAction.Crash && !AllowCrash)
            {
                throw new ConfigurationException($"Faults:{i} is a crash rule: it also needs FaultInjection:AllowCrash=true.");
            }
        }
    }
}
