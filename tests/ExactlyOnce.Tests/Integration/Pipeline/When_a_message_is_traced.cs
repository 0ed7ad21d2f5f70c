using System.Collections.Concurrent;
using System.Diagnostics;
using ExactlyOnce.Grains;
using ExactlyOnce.Grains.Messages;
using ExactlyOnce.Grains.Orders;
using ExactlyOnce.Messaging;
using ExactlyOnce.PostgreSql;
using Microsoft.Extensions.DependencyInjection;

namespace ExactlyOnce.Tests.Pipeline;

/// <summary>
/// One trace from the client's send through A to B: the library's spans, linked by the trace
/// context that travels with each message (the client's, then the one stored in A's outbox entry),
/// also for a message A holds back until an earlier one arrives.
/// </summary>
[Trait("Category", "Integration")]
[Trait("Kind", "Integration")]
public sealed class When_a_message_is_traced() : PipelineClusterTest("trace")
{
    private readonly ConcurrentQueue<Activity> _spans = new();

    /// <summary>Hears the library's spans (of every cluster in this process: a test looks at its own trace only).</summary>
    private ActivityListener Listen()
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == ExactlyOnceNames.ActivitySource,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }

    [Fact]
    public async Task Should_make_the_order_span_a_child_of_the_send_and_the_billing_span_a_child_of_the_order_span()
    {
        var spans = _spans;
        using var listener = Listen();
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

    [Fact]
    public async Task Should_apply_a_held_message_in_the_trace_of_its_own_send()
    {
        using var listener = Listen();
        var order = $"held-{Guid.NewGuid():N}"[..16];
        var producer = ProducerIds.Client("trace-held", 1);

        var early = await SendInOwnTraceAsync(order, producer, 2);
        await Eventually.WaitForAsync(() => Cluster.Client.GetGrain<IOrderGrain>(order).GetPendingWork(), w => w.BlockedProducers.Count == 1, TimeSpan.FromSeconds(30), "#2 held back");
        var first = await SendInOwnTraceAsync(order, producer, 1);

        var ours = await Eventually.WaitForAsync(
            () => Task.FromResult(_spans.Where(s => s.TraceId == early.TraceId).ToList()),
            found => found.Count(s => s.DisplayName == "order process") == 2 && found.Exists(s => s.DisplayName == "billing process"),
            TimeSpan.FromSeconds(60), "#2's spans: its arrival, its apply, and billing's");

        var send = Assert.Single(ours, s => s.DisplayName == "send orders");
        var arrival = Assert.Single(ours, s => s.DisplayName == "order process" && Equals(s.GetTagItem("exactlyonce.outcome"), "Held"));
        var applied = Assert.Single(ours, s => s.DisplayName == "order process" && Equals(s.GetTagItem("exactlyonce.outcome"), "Applied"));
        var billing = Assert.Single(ours, s => s.DisplayName == "billing process");
        Assert.Equal((send.SpanId, send.SpanId), (arrival.ParentSpanId, applied.ParentSpanId));
        Assert.Equal(2L, applied.GetTagItem("exactlyonce.sequence"));
        // Released by #1's delivery, which is in #1's trace.
        var released = Assert.Single(_spans, s => s.TraceId == first.TraceId && s.DisplayName == "order process");
        Assert.Equal(released.SpanId, Assert.Single(applied.Links).Context.SpanId);
        Assert.Equal(applied.SpanId, billing.ParentSpanId);
    }

    /// <summary>Publishes #<paramref name="sequence"/> of <paramref name="producer"/> in a trace of its own; returns the trace's root.</summary>
    private async Task<ActivityContext> SendInOwnTraceAsync(string order, string producer, long sequence)
    {
        var previous = Activity.Current;
        Activity.Current = null;
        using var root = new Activity($"test #{sequence}").Start();
        await Cluster.Client.PublishMessageAsync(OrleansNames.StreamProvider, StreamNamespaces.Orders, order,
            new AddItem(Guid.NewGuid(), order, Filling.Meat) { ProducerId = producer, Sequence = sequence });
        root.Stop();
        Activity.Current = previous;
        return root.Context;
    }
}
