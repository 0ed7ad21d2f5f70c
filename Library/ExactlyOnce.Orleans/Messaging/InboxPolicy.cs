namespace ExactlyOnce.Messaging;

/// <summary>
/// The inbox retention rule. A processed id may be forgotten only when the stream can no longer
/// deliver that message again:
/// <list type="bullet">
/// <item>a stream row is never handed out after its expiry (ExpiryTimeout after it was enqueued);</item>
/// <item>a row handed out just before its expiry may still be in flight for VisibilityTimeout, and
/// one delivery attempt may last MaxEventDeliveryTime;</item>
/// <item>processing happens after enqueueing, so measuring from the processing time is on the safe side;</item>
/// <item>a safety margin covers clock skew between silos and the database, and re-sends from a
/// sender's outbox that happen shortly after the first copy was processed.</item>
/// </list>
/// So: retention = ExpiryTimeout + VisibilityTimeout + MaxEventDeliveryTime + margin. Ids are
/// dropped oldest first once older than that. Re-enqueued dead letters get a new expiry, which is
/// why a dead-letter replay must refuse messages older than the retention.
/// </summary>
public static class InboxPolicy
{
    /// <summary>Default safety margin: 1 hour.</summary>
    public static readonly TimeSpan DefaultSafetyMargin = TimeSpan.FromHours(1);

    /// <summary>The retention for the given stream settings.</summary>
    public static TimeSpan RetentionFor(TimeSpan expiryTimeout, TimeSpan visibilityTimeout, TimeSpan maxEventDeliveryTime, TimeSpan safetyMargin) =>
        expiryTimeout + visibilityTimeout + maxEventDeliveryTime + safetyMargin;

    /// <summary>Drops the entries older than the retention (the list is oldest first); returns the dropped ones.</summary>
    public static IReadOnlyList<TEntry> Prune<TEntry>(List<TEntry> inbox, Func<TEntry, DateTime> processedAtUtc, DateTime nowUtc, TimeSpan retention)
    {
        var cutoff = nowUtc - retention;
        var expired = 0;
        while (expired < inbox.Count && processedAtUtc(inbox[expired]) < cutoff)
        {
            expired++;
        }

        var dropped = inbox.GetRange(0, expired);
        inbox.RemoveRange(0, expired);
        return dropped;
    }
}
