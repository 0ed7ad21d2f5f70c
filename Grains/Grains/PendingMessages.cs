using ExactlyOnce.Grains.Orders;

namespace ExactlyOnce.Messaging;

/// <summary>The outbox as read models.</summary>
public static class PendingMessages
{
    public static IReadOnlyList<PendingMessage> From(IEnumerable<OutboxEntry> outbox) =>
        [.. outbox.Select(e => new PendingMessage(e.MessageId, e.CausedBy, $"{e.StreamNamespace}/{e.StreamKey}", e.Payload.GetType().Name))];
}
