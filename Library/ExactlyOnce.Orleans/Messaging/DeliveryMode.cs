namespace ExactlyOnce.Messaging;

/// <summary>
/// How a message and every message it causes are processed. Chosen by the sender of the first
/// message and carried along, so one workload can be run under each mode side by side.
/// </summary>
public enum DeliveryMode
{
    /// <summary>At-least-once delivery plus dedup (inbox) and outbox in the component's state: no loss, no duplicates.</summary>
    ExactlyOnce = 0,

    /// <summary>Retry until every step is confirmed, without dedup: nothing is lost, effects may repeat.</summary>
    AtLeastOnce = 1,

    /// <summary>Acknowledge whatever happens and send once: nothing repeats, messages may be lost.</summary>
    AtMostOnce = 2,
}
