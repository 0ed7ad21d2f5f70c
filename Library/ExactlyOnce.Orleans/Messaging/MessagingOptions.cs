namespace ExactlyOnce.Messaging;

/// <summary>
/// Options of the exactly-once core. The silo derives <see cref="InboxRetention"/> from the stream
/// settings (see <see cref="InboxPolicy"/>); it is not set by hand.
/// </summary>
public sealed class MessagingOptions
{
    /// <summary>Name of the durable stream provider components consume and publish on. Default: <c>durable</c>.</summary>
    public string StreamProvider { get; set; } = ExactlyOnceNames.StreamProvider;

    /// <summary>How long the fallback inbox remembers an unsequenced message id. Default: 7 days + 1 h + 70 s (the stream defaults plus the safety margin).</summary>
    public TimeSpan InboxRetention { get; set; } = InboxPolicy.RetentionFor(TimeSpan.FromDays(7), TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(10), InboxPolicy.DefaultSafetyMargin);

    /// <summary>Most unsequenced ids one component keeps; beyond it new unsequenced messages are refused (retried later), never an id forgotten early. Default: 20,000.</summary>
    public int MaxInboxEntries { get; set; } = 20_000;

    /// <summary>Period of the reminder that flushes a non-empty outbox and retries ready held messages. Default: 1 min (Orleans' minimum).</summary>
    public TimeSpan OutboxFlushPeriod { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Most early arrivals of one producer kept in the state; more are parked in the parking table. Default: 64.</summary>
    public int MaxHeldPerProducer { get; set; } = 64;

    /// <summary>What happens to a message whose processing fails: retries, delays, dead letters (see <see cref="RecoverabilityPolicy"/>).</summary>
    public RecoverabilityOptions Recoverability { get; set; } = new();

    /// <summary>Most early arrivals of all producers kept in one component's state; more are parked. Default: 256.</summary>
    public int MaxHeldPerComponent { get; set; } = 256;

    /// <summary>Why these options cannot work, in one line; null when they can.</summary>
    public string? Validate() =>
        string.IsNullOrWhiteSpace(StreamProvider) ? $"{nameof(StreamProvider)} is empty"
        : InboxRetention <= TimeSpan.Zero ? $"{nameof(InboxRetention)} must be positive"
        : MaxInboxEntries < 1 ? $"{nameof(MaxInboxEntries)} must be at least 1"
        : OutboxFlushPeriod < TimeSpan.FromMinutes(1) ? $"{nameof(OutboxFlushPeriod)} must be at least 1 minute (Orleans' shortest reminder period)"
        : MaxHeldPerProducer < 1 || MaxHeldPerComponent < MaxHeldPerProducer ? $"{nameof(MaxHeldPerProducer)} must be at least 1, and {nameof(MaxHeldPerComponent)} at least {nameof(MaxHeldPerProducer)}"
        : Recoverability.Validate() is { } recoverability ? $"{nameof(Recoverability)}: {recoverability}"
        : null;
}
