using ExactlyOnce.Faults;
using ExactlyOnce.Grains.Messages;
using ExactlyOnce.Messaging;

namespace ExactlyOnce.Tests.Pipeline;

/// <summary>Thrown faults at each point, in a real cluster on real streams and PostgreSQL.</summary>
[Trait("Category", "Integration")]
[Trait("Kind", "Integration")]
public sealed class When_a_fault_strikes_inside_the_pipeline() : PipelineClusterTest("faults")
{
    [Fact]
    public async Task Should_send_nothing_before_the_commit_succeeds_then_apply_exactly_once()
    {
        var add = new AddItem(Guid.NewGuid(), "before-commit", Filling.Meat);
        await Driver.SetFaultsAsync($"{FaultPoints.BeforeCommit}=1:throw@{add.MessageId}");
        await Driver.PublishAsync(add);

        await Eventually.WaitForAsync(Driver.FaultsFiredAsync, n => n >= 2, TimeSpan.FromSeconds(60), "two failed attempts");
        Assert.Empty(await Driver.SentToBillingAsync("before-commit")); // no ghost
        Assert.Empty((await Driver.OrderAsync("before-commit")).Lines);

        await Driver.ClearFaultsAsync();
        var bill = await Driver.WaitForBillAsync("before-commit", b => b.Items.Count > 0);
        await Driver.WaitForQuiescenceAsync(["before-commit"], TimeSpan.FromSeconds(60));

        Assert.Single((await Driver.BillAsync("before-commit")).Items);
        Assert.Equal([Filling.Meat], (await Driver.OrderAsync("before-commit")).Lines);
        Assert.Equal(MessageIds.Derive(add.MessageId, "order", 0), bill.Items[0].MessageId);
    }

    [Fact]
    public async Task Should_send_the_stored_message_after_an_after_commit_throw_with_the_same_id_and_payload()
    {
        var add = new AddItem(Guid.NewGuid(), "after-commit", Filling.Mushrooms);
        await Driver.SetFaultsAsync($"{FaultPoints.AfterCommit}=1:throw@{add.MessageId}");
        await Driver.PublishAsync(add);

        var bill = await Driver.WaitForBillAsync("after-commit", b => b.Items.Count > 0);
        await Driver.WaitForQuiescenceAsync(["after-commit"], TimeSpan.FromSeconds(60));

        Assert.True(await Driver.FaultsFiredAsync() >= 1);
        var expectedId = MessageIds.Derive(add.MessageId, "order", 0);
        var item = Assert.Single((await Driver.BillAsync("after-commit")).Items);
        Assert.Equal(expectedId, item.MessageId);
        Assert.Equal(1, item.LineCount);
        var copies = await Driver.SentCopiesAsync(expectedId);
        Assert.NotEmpty(copies);
        Assert.Single(copies.Select(c => c.Payload).Distinct());
        Assert.Equal([Filling.Mushrooms], (await Driver.OrderAsync("after-commit")).Lines);
    }

    [Fact]
    public async Task Should_change_the_bill_once_after_an_after_dispatch_throw()
    {
        var add = new AddItem(Guid.NewGuid(), "after-dispatch", Filling.Strawberry);
        await Driver.SetFaultsAsync($"{FaultPoints.AfterDispatch}=1:throw@{add.MessageId}");
        await Driver.PublishAsync(add);

        await Driver.WaitForBillAsync("after-dispatch", b => b.Items.Count > 0);
        await Driver.WaitForQuiescenceAsync(["after-dispatch"], TimeSpan.FromSeconds(60));

        Assert.True(await Driver.FaultsFiredAsync() >= 1);
        var bill = await Driver.BillAsync("after-dispatch");
        Assert.Single(bill.Items);
        Assert.Equal(35m, bill.Total);
        Assert.Single((await Driver.SentToBillingAsync("after-dispatch")).Select(s => s.MessageId).Distinct());
    }

    [Fact]
    public async Task Should_apply_once_when_the_acknowledgement_fails()
    {
        var add = new AddItem(Guid.NewGuid(), "before-ack", Filling.SwissCheese);
        await Driver.SetFaultsAsync($"{FaultPoints.BeforeAck}=1:throw@order");
        await Driver.PublishAsync(add);

        await Eventually.WaitForAsync(Driver.FaultsFiredAsync, n => n >= 3, TimeSpan.FromSeconds(60), "three refused acknowledgements");
        await Driver.ClearFaultsAsync();
        await Driver.WaitForQuiescenceAsync(["before-ack"], TimeSpan.FromSeconds(60));

        Assert.Equal([Filling.SwissCheese], (await Driver.OrderAsync("before-ack")).Lines);
        Assert.Single((await Driver.BillAsync("before-ack")).Items);
    }
}
