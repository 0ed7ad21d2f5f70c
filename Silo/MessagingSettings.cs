using ExactlyOnce.Faults;
using ExactlyOnce.Messaging;
using ExactlyOnce.Hosting;
using Microsoft.Extensions.Configuration;

namespace ExactlyOnce.Silo;

/// <summary>Settings of the exactly-once core. Sections <c>Messaging</c> and <c>Faults</c>.</summary>
public sealed class MessagingSettings
{
    /// <summary>The section <c>Messaging</c> for <see cref="ConfigurationKeys"/> (the fault rules have their own section).</summary>
    public static SettingsSection Section { get; } = new("Messaging", typeof(MessagingSettings), nameof(Faults));

    /// <summary>The section <c>Faults</c> for <see cref="ConfigurationKeys"/>: a list of rules, <c>Faults:0</c>, <c>Faults:1</c>, ...</summary>
    public static SettingsSection FaultsSection { get; } = new("Faults", typeof(List<string>));

    /// <summary>Added to the stream's redelivery window to get the inbox retention. Default: 1 h.</summary>
    public TimeSpan InboxSafetyMargin { get; set; } = InboxPolicy.DefaultSafetyMargin;

    /// <summary>Most ids one component keeps in its inbox. Default: 20,000.</summary>
    public int MaxInboxEntries { get; set; } = 20_000;

    /// <summary>Early arrivals of one producer kept in a component's state; more go to the parking table. Default: 64.</summary>
    public int MaxHeldPerProducer { get; set; } = 64;

    /// <summary>Early arrivals of all producers kept in one component's state. Default: 256.</summary>
    public int MaxHeldPerComponent { get; set; } = 256;

    /// <summary>The recoverability policy (section Messaging:Recoverability): retries, delays, dead letters.</summary>
    public RecoverabilityOptions Recoverability { get; set; } = new();

    /// <summary>Period of the outbox-flush reminder. Default: 1 min.</summary>
    public TimeSpan OutboxFlushPeriod { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Age after which a recorded client message still unconfirmed is published by the silos' sweeper. Default: 30 s.</summary>
    public TimeSpan ClientOutboxSweepAge { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often each silo looks for such messages. Default: 10 s.</summary>
    public TimeSpan ClientOutboxSweepPeriod { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often a silo looks for finished runs to retire. Default: 30 s.</summary>
    public TimeSpan RunRetirementPeriod { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>A run nobody recorded for this long (its load died) is sealed, so it can be retired; a client coming back later is refused. Default: 1 h.</summary>
    public TimeSpan RunIdleSealAfter { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Record every published copy in ExactlyOnceSentMessage (what verification reads). Default: true.</summary>
    public bool RecordSends { get; set; } = true;

    /// <summary>How long a send audit row is kept; older rows are purged once a minute. Default: 7 days.</summary>
    public TimeSpan SentRetention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Fault rules armed on this silo at start (section Faults, a list of point=probability[:throw|poison|crash][@target]). Default: none.</summary>
    public List<FaultRule> Faults { get; set; } = [];

    /// <summary>Reads and validates both sections; throws <see cref="ConfigurationException"/> naming the bad entry.</summary>
    public static MessagingSettings From(IConfiguration configuration)
    {
        var settings = new MessagingSettings();
        try
        {
            configuration.GetSection("Messaging").Bind(settings);
        }
        catch (InvalidOperationException ex)
        {
            throw new ConfigurationException($"Messaging: {ex.InnerException?.Message ?? ex.Message}", ex);
        }

        foreach (var entry in configuration.GetSection("Faults").GetChildren())
        {
            if (string.IsNullOrWhiteSpace(entry.Value))
            {
                continue;
            }

            try
            {
                settings.Faults.Add(FaultRule.Parse(entry.Value));
            }
            catch (FormatException ex)
            {
                throw new ConfigurationException($"Faults:{entry.Key}: {ex.Message}", ex);
            }
        }

        if (configuration["Messaging:MaxHeldFailures"] is not null)
        {
            throw new ConfigurationException("Messaging:MaxHeldFailures was replaced by the recoverability policy: use Messaging:Recoverability:ImmediateRetries and Messaging:Recoverability:DelayedRetries.");
        }

        if (settings.InboxSafetyMargin < TimeSpan.Zero)
        {
            throw new ConfigurationException($"Messaging:{nameof(InboxSafetyMargin)} must not be negative.");
        }

        // The core's own rules (held-back bounds, inbox size, reminder period, recoverability), as
        // the silo will check them at start; the stream settings only shape the inbox retention.
        var core = new MessagingOptions();
        settings.ApplyTo(core, new StreamSettings());
        if (core.Validate() is { } invalid)
        {
            throw new ConfigurationException($"Messaging:{invalid}.");
        }

        if (settings.RunRetirementPeriod < TimeSpan.FromSeconds(1) || settings.RunIdleSealAfter < TimeSpan.FromMinutes(1))
        {
            throw new ConfigurationException($"Messaging:{nameof(RunRetirementPeriod)} must be at least 1 second and Messaging:{nameof(RunIdleSealAfter)} at least 1 minute.");
        }

        if (settings.SentRetention < TimeSpan.FromMinutes(1))
        {
            throw new ConfigurationException($"Messaging:{nameof(SentRetention)} must be at least 1 minute.");
        }

        if (settings.ClientOutboxSweepAge < TimeSpan.FromSeconds(1) || settings.ClientOutboxSweepPeriod < TimeSpan.FromSeconds(1))
        {
            throw new ConfigurationException($"Messaging:{nameof(ClientOutboxSweepAge)} and Messaging:{nameof(ClientOutboxSweepPeriod)} must be at least 1 second.");
        }

        return settings;
    }

    /// <summary>Sets the core's options from these settings, the inbox retention derived from the stream settings.</summary>
    public void ApplyTo(MessagingOptions options, StreamSettings streams)
    {
        options.InboxRetention = InboxPolicy.RetentionFor(streams.ExpiryTimeout, streams.VisibilityTimeout, streams.MaxEventDeliveryTime, InboxSafetyMargin);
        options.MaxInboxEntries = MaxInboxEntries;
        options.OutboxFlushPeriod = OutboxFlushPeriod;
        options.MaxHeldPerProducer = MaxHeldPerProducer;
        options.MaxHeldPerComponent = MaxHeldPerComponent;
        options.Recoverability = Recoverability;
    }
}
