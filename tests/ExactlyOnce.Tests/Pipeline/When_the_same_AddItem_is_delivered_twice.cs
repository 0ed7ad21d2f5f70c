using ExactlyOnce.Grains.Messages;
using Orleans.TestingHost;

namespace ExactlyOnce.Tests.Pipeline;

[Trait("Category", "Integration")]
public sealed class When_the_same_AddItem_is_delivered_twice : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private TestCluster _cluster = null!;
    private PipelineDriver _driver = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync("dup");
        _cluster = await OrleansTestCluster.DeployAsync(_db.ConnectionString, silos: 1);
        _driver = new PipelineDriver(_cluster.Client, _db);
    }

    public async Task DisposeAsync()
    {
        await _cluster.StopAllSilosAsync();
        await _cluster.DisposeAsync();
        await _db.DisposeAsync();
    }

    [Fact]
    public async Task Should_add_one_line_and_one_bill_entry_and_every_copy_of_ItemAdded_has_the_same_id()
    {
        var add = new AddItem(Guid.NewGuid(), "dup-1", Filling.Meat);
        await _driver.PublishAsync(add);
        await _driver.PublishAsync(add);
        // A later message on the same stream: once it is applied, both copies were processed (one stream, in order).
        var marker = new AddItem(Guid.NewGuid(), "dup-1", Filling.Strawberry);
        await _driver.PublishAsync(marker);

        var bill = await _driver.WaitForBillAsync("dup-1", b => b.Items.Count >= 2);
        var order = await _driver.OrderAsync("dup-1");

        Assert.Equal([Filling.Meat, Filling.Strawberry], order.Lines);
        Assert.Equal(2, bill.Items.Count);
        Assert.Equal(85m, bill.Total);
        var sent = await _driver.SentToBillingAsync("dup-1");
        var addedForMeat = sent.Where(s => s.Payload.Contains("\"Filling\":1")).Select(s => s.MessageId).Distinct().ToList();
        Assert.Single(addedForMeat);
        Assert.Equal(addedForMeat[0], bill.Items[0].MessageId);
        Assert.Equal(2, order.InboxSize);
        Assert.Empty(order.PendingOutbox);
    }
}
