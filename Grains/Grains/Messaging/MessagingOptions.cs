namespace ExactlyOnce.Grains.Messaging;

/// <summary>
/// Options of the exactly-once core. The silo derives <see cref="InboxRetention"/> from the stream
/// settings (see <see cref="InboxPolicy"/>); it is not set by hand.
/// </summary>
public sealed class MessagingOptions
{
    /// <summary>How long a processed id is remembered. Default: 7 days + 1 h + 70 s (the stream defaults plus the safety margin).</summary>
    public TimeSpan InboxRetention { get; set; } = InboxPolicy.RetentionFor(TimeSpan.FromDays(7), TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(10), InboxPolicy.DefaultSafetyMargin);

    /// <summary>Most ids one component keeps; beyond it new messages are refused (retried later), never an id forgotten early. Default: 20,000.</summary>
    public int MaxInboxEntries { get; set; } = 20_000;

    /// <summary>Period of the reminder that flushes a non-empty outbox. Default: 1 min (Orleans' minimum).</summary>
    public TimeSpan OutboxFlushPeriod { get; set; } = TimeSpan.FromMinutes(1);
}
