using System.Diagnostics;
using ExactlyOnce.Diagnostics;
using ExactlyOnce.Messaging;
using Orleans.Runtime;

namespace ExactlyOnce;

/// <summary>Publishing from an Orleans client the way receivers measure and trace it.</summary>
public static class ClientPublishingExtensions
{
    /// <summary>
    /// Publishes <paramref name="message"/> to stream (<paramref name="streamNamespace"/>,
    /// <paramref name="streamKey"/>) of <paramref name="streamProvider"/>, in a span of kind producer
    /// (<c>send &lt;namespace&gt;</c>, a child of the caller's span, if any) whose trace context and
    /// send time travel with it: the receiving component's span becomes its child, and its latency
    /// (<c>exactlyonce.message.latency</c>) is measured from now. Numbering and recording are the
    /// caller's (see the PostgreSQL package's <c>ExactlyOnceSender</c>, which publishes through this).
    /// </summary>
    public static async Task PublishMessageAsync(this IClusterClient client, string streamProvider, string streamNamespace, string streamKey, IMessage message)
    {
        var stream = client.GetStreamProvider(streamProvider).GetStream<object>(StreamId.Create(streamNamespace, streamKey));
        using var span = MessagingTracing.StartSpan($"send {streamNamespace}", ActivityKind.Producer, default, streamNamespace, message);
        await MessagingTracing.WithContextAsync(MessagingTracing.CurrentTraceParent(), DateTime.UtcNow, () => stream.OnNextAsync(message));
    }
}
