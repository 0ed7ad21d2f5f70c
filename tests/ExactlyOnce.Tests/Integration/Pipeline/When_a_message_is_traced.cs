using System.Collections.Concurrent;
using System.Diagnostics;
using ExactlyOnce.Grains;
using ExactlyOnce.Grains.Messages;
using ExactlyOnce.PostgreSql;
using Microsoft.Extensions.DependencyInjection;

namespace ExactlyOnce.Tests.Pipeline;

/// <summary>
/// One trace from the client's send through A to B: the library's spans, linked by the trace
/// context that travels with each message (the client's, then the one stored in A's outbox entry).
/// </summary>
[Trait("Category", "Integration")]
[Trait("Kind", "Integration")]
public sealed class When_a_message_is_traced() : PipelineClusterTest("trace")
{
    [Fact]
    public async Task Should_make_the_order_span_a_child_of_the_send_and_the_billing_span_a_child_of_the_order_span()
    {
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == ExactlyOnceNames.ActivitySource,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        var order = $"trace-{Guid.NewGuid():N}"[..16];
        var sender = Cluster.Client.ServiceProvider.GetRequiredService<ExactlyOnceSender>();

        ActivityTraceId trace;
        ActivitySpanId rootSpan;
        using (var root = new Activity("test").Start())
        {
            (trace, rootSpan) = (root.TraceId, root.SpanId);
            await sender.SendAsync("trace-test", StreamNamespaces.Orders, order, new AddItem(Guid.NewGuid(), order, Filling.Meat));
        }

        // Only this trace: other tests' clusters run in this process too.
        var ours = await Eventually.WaitForAsync(
            () => Task.FromResult(spans.Where(s => s.TraceId == trace).ToList()),
            // A span is reported when it ends, and B may end its span before A ends the one that sent to it.
            found => new[] { "send orders", "order process", "billing process" }.All(name => found.Exists(s => s.DisplayName == name)),
            TimeSpan.FromSeconds(60), "the three spans");

        Assert.True(ours.Count == 3, $"spans of the trace: {string.Join(", ", ours.Select(s => $"{s.DisplayName} {s.Kind} {s.SpanId} <- {s.ParentSpanId}"))}");
        var send = Assert.Single(ours, s => s.DisplayName == "send orders");
        var orderSpan = Assert.Single(ours, s => s.DisplayName == "order process");
        var billingSpan = Assert.Single(ours, s => s.DisplayName == "billing process");
        Assert.Equal(rootSpan, send.ParentSpanId);
        Assert.Equal((ActivityKind.Producer, ActivityKind.Consumer, ActivityKind.Consumer), (send.Kind, orderSpan.Kind, billingSpan.Kind));
        Assert.Equal(send.SpanId, orderSpan.ParentSpanId);
        Assert.Equal(orderSpan.SpanId, billingSpan.ParentSpanId);
        Assert.Equal("Applied", orderSpan.GetTagItem("exactlyonce.outcome"));
        Assert.Equal("Applied", billingSpan.GetTagItem("exactlyonce.outcome"));
        Assert.Equal(1L, orderSpan.GetTagItem("exactlyonce.sequence"));
    }
}
