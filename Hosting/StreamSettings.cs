using ExactlyOnce.PostgreSql;
using Microsoft.Extensions.Configuration;

namespace ExactlyOnce.Hosting;

/// <summary>
/// Settings of the durable ADO.NET stream provider. Section <c>Streams</c>. The defaults avoid the
/// provider's traps (design.md §5): a short expiry dead-letters messages during an outage, and a
/// visibility timeout close to the delivery time makes messages go out several times.
/// </summary>
public sealed class StreamSettings
{
    /// <summary>The section <c>Streams</c> for <see cref="ConfigurationKeys"/>.</summary>
    public static SettingsSection Section { get; } = new("Streams", typeof(StreamSettings));

    /// <summary>Number of queues each stream namespace is spread over; queues are balanced over silos. Default: 8.</summary>
    public int QueueCount { get; set; } = 8;

    /// <summary>How long an undelivered message is kept before it is dead-lettered. Default: 7 days.</summary>
    public TimeSpan ExpiryTimeout { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How long a dequeued message stays invisible to other receivers. Default: 60 s.</summary>
    public TimeSpan VisibilityTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How often each pulling agent reads its queue. Every queue is read this often whether it holds
    /// anything or not, so a shorter period lowers the latency of a hop (a message waits half a period
    /// on average) and costs empty reads at rest: QueueCount reads per period per namespace, spread
    /// over the silos (docs/performance.md, polling). Default: 100 ms, the provider's own.
    /// </summary>
    public TimeSpan PollingPeriod { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>How long the pulling agent waits for one delivery to a consumer. Default: 10 s.</summary>
    public TimeSpan MaxEventDeliveryTime { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Passed to the provider as its MaxAttempts and ignored by the stream SQL, which never dead-letters a message for its deliveries or failures. Default: 5.</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>Passed to the provider as its dead-letter eviction timeout and ignored: stream dead letters are kept until replayed or discarded. Default: 30 days.</summary>
    public TimeSpan DeadLetterRetention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>
    /// Whether the silo's pulling agents start with the silo. Off, the silo joins, owns its queues and
    /// reads nothing until they are started through the management grain
    /// (<c>PersistentStreamProviderCommand.StartAgents</c>); the chaos runner's <c>--backlog</c> uses it
    /// to build a real backlog. Default: true.
    /// </summary>
    public bool StartAgents { get; set; } = true;

    /// <summary>Reads and validates the section; throws <see cref="ConfigurationException"/> naming the bad field.</summary>
    public static StreamSettings From(IConfiguration configuration)
    {
        var settings = new StreamSettings();
        try
        {
            configuration.GetSection("Streams").Bind(settings);
        }
        catch (InvalidOperationException ex)
        {
            throw new ConfigurationException($"Streams: {ex.Message}", ex);
        }

        settings.Validate();
        return settings;
    }

    /// <summary>Throws <see cref="ConfigurationException"/> when a value cannot work.</summary>
    public void Validate()
    {
        Require(MaxAttempts >= 1, nameof(MaxAttempts), "must be at least 1");
        var options = new DurableStreamOptions();
        ApplyTo(options);
        if (options.Validate() is { } problem)
        {
            // The library's rules, as one line naming the setting (Streams:<name> ...).
            throw new ConfigurationException($"Streams:{problem}.");
        }
    }

    /// <summary>Copies these settings to the library's stream options.</summary>
    public void ApplyTo(DurableStreamOptions options)
    {
        options.QueueCount = QueueCount;
        options.ExpiryTimeout = ExpiryTimeout;
        options.VisibilityTimeout = VisibilityTimeout;
        options.PollingPeriod = PollingPeriod;
        options.MaxEventDeliveryTime = MaxEventDeliveryTime;
        options.DeadLetterRetention = DeadLetterRetention;
    }

    private static void Require(bool condition, string field, string rule)
    {
        if (!condition)
        {
            throw new ConfigurationException($"Streams:{field} {rule}.");
        }
    }
}
