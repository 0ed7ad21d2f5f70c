using System.Diagnostics;
using System.Globalization;
using ExactlyOnce.Messaging;

namespace ExactlyOnce.Diagnostics;

/// <summary>
/// Traces (activity source <see cref="ExactlyOnceNames.ActivitySource"/>): a span per processed
/// delivery, whose parent is the span that committed (or sent) the message. The parent's trace
/// context and the send time travel with the message in the stream event's request context, which
/// Orleans' ADO.NET streams store with the event; an outbox entry keeps both, so a re-send after a
/// crash continues the trace it belongs to.
/// </summary>
internal static class MessagingTracing
{
    /// <summary>Request-context key of the W3C <c>traceparent</c> of the span that sent the message.</summary>
    public const string TraceParentKey = "exactlyonce.traceparent";

    /// <summary>Request-context key of the time the message was committed or sent (UTC ticks, as text).</summary>
    public const string SentAtKey = "exactlyonce.sent";

    public static readonly ActivitySource Source = new(ExactlyOnceNames.ActivitySource);

    /// <summary>
    /// Starts a span for <paramref name="message"/> on stream namespace <paramref name="streamNamespace"/>
    /// (a client send, or a delivery), with the tags every such span carries; null when nothing listens.
    /// </summary>
    public static Activity? StartSpan(string name, ActivityKind kind, ActivityContext parent, string streamNamespace, IMessage message, IEnumerable<ActivityLink>? links = null)
    {
        var span = Source.StartActivity(name, kind, parent, links: links);
        span?.SetTag("messaging.system", "orleans");
        span?.SetTag("messaging.destination.name", streamNamespace);
        span?.SetTag("messaging.message.id", message.MessageId.ToString());
        span?.SetTag("exactlyonce.producer", message.ProducerId);
        span?.SetTag("exactlyonce.sequence", message.Sequence);
        return span;
    }

    /// <summary>
    /// Starts the <c>&lt;component&gt; process</c> span of <paramref name="message"/> from input stream
    /// <paramref name="input"/>, a child of the span that sent it (<paramref name="origin"/>; without
    /// one, of the current span). <paramref name="releasedBy"/>: the span of the delivery or pass that
    /// applies a message kept until then, linked to it.
    /// </summary>
    public static Activity? StartProcessSpan(string component, string input, IMessage message, MessageOrigin origin, ActivityContext releasedBy = default)
    {
        var parent = ParentOf(origin.TraceParent);
        var links = parent != default && releasedBy != default ? new[] { new ActivityLink(releasedBy) } : null;
        var span = StartSpan($"{component} process", ActivityKind.Consumer, parent, input, message, links);
        span?.SetTag("exactlyonce.component", component);
        return span;
    }

    /// <summary>The current span's <c>traceparent</c>, to store with an outgoing message; null when none.</summary>
    public static string? CurrentTraceParent() => Activity.Current is { IdFormat: ActivityIdFormat.W3C } current ? current.Id : null;

    /// <summary>Runs <paramref name="publish"/> with the message's trace context and send time in the request context.</summary>
    public static async Task WithContextAsync(string? traceParent, DateTime? sentUtc, Func<Task> publish)
    {
        var previousParent = RequestContext.Get(TraceParentKey);
        var previousSent = RequestContext.Get(SentAtKey);
        Set(TraceParentKey, traceParent);
        Set(SentAtKey, sentUtc?.Ticks.ToString(CultureInfo.InvariantCulture));
        try
        {
            await publish();
        }
        finally
        {
            Set(TraceParentKey, previousParent);
            Set(SentAtKey, previousSent);
        }
    }

    /// <summary>The trace context and send time a delivery arrived with (none when the sender had none, or sent something unreadable).</summary>
    public static MessageOrigin FromRequestContext()
    {
        var traceParent = RequestContext.Get(TraceParentKey) as string;
        var sent = RequestContext.Get(SentAtKey) is string ticks && long.TryParse(ticks, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            && value is > 0 && value <= DateTime.MaxValue.Ticks
            ? new DateTime(value, DateTimeKind.Utc)
            : (DateTime?)null;
        return new MessageOrigin(ParentOf(traceParent) == default ? null : traceParent, sent);
    }

    /// <summary>The span context of a <c>traceparent</c>; default when there is none or it is not one.</summary>
    public static ActivityContext ParentOf(string? traceParent) =>
        traceParent is not null && ActivityContext.TryParse(traceParent, null, isRemote: true, out var context) ? context : default;

    private static void Set(string key, object? value)
    {
        if (value is null)
        {
            RequestContext.Remove(key);
        }
        else
        {
            RequestContext.Set(key, value);
        }
    }
}
