using ExactlyOnce.Grains.Messages;

namespace ExactlyOnce.Tests.Pipeline;

[Trait("Category", "Integration")]
[Trait("Kind", "Integration")]
public sealed class When_the_same_AddItem_is_delivered_twice() : PipelineClusterTest("dup")
{
    [Fact]
    public async Task Should_add_one_line_and_one_bill_entry_and_every_copy_of_ItemAdded_has_the_same_id()
    {
        var add = new AddItem(Guid.NewGuid(), "dup-1", Filling.Meat);
        await Driver.PublishAsync(add);
        await Driver.PublishAsync(add);
        // A later message on the same stream: once it is applied, both copies were processed (one stream, in order).
        var marker = new AddItem(Guid.NewGuid(), "dup-1", Filling.Strawberry);
        await Driver.PublishAsync(marker);

        var bill = await Driver.WaitForBillAsync("dup-1", b => b.Items.Count >= 2);
        var order = await Driver.OrderAsync("dup-1");

        Assert.Equal([Filling.Meat, Filling.Strawberry], order.Lines);
        Assert.Equal(2, bill.Items.Count);
        Assert.Equal(85m, bill.Total);
        var sent = await Driver.SentToBillingAsync("dup-1");
        var addedForMeat = sent.Where(s => s.Payload.Contains("\"Filling\":1")).Select(s => s.MessageId).Distinct().ToList();
        Assert.Single(addedForMeat);
        Assert.Equal(addedForMeat[0], bill.Items[0].MessageId);
        Assert.Equal(2, order.InboxSize);
        Assert.Empty(order.PendingOutbox);
    }
}
