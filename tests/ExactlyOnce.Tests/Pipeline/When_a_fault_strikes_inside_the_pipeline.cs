using ExactlyOnce.Grains.Faults;
using ExactlyOnce.Grains.Messages;
using ExactlyOnce.Grains.Messaging;
using Orleans.TestingHost;

namespace ExactlyOnce.Tests.Pipeline;

/// <summary>Thrown faults at each point, in a real cluster on real streams and PostgreSQL.</summary>
[Trait("Category", "Integration")]
public sealed class When_a_fault_strikes_inside_the_pipeline : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private TestCluster _cluster = null!;
    private PipelineDriver _driver = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync("faults");
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
    public async Task Should_send_nothing_before_the_commit_succeeds_then_apply_exactly_once()
    {
        var add = new AddItem(Guid.NewGuid(), "before-commit", Filling.Meat);
        await _driver.SetFaultsAsync($"{FaultPoints.BeforeCommit}=1:throw@{add.MessageId}");
        await _driver.PublishAsync(add);

        await Eventually.WaitForAsync(_driver.FaultsFiredAsync, n => n >= 2, TimeSpan.FromSeconds(60), "two failed attempts");
        Assert.Empty(await _driver.SentToBillingAsync("before-commit")); // no ghost
        Assert.Empty((await _driver.OrderAsync("before-commit")).Lines);

        await _driver.ClearFaultsAsync();
        var bill = await _driver.WaitForBillAsync("before-commit", b => b.Items.Count > 0);
        await _driver.WaitForQuiescenceAsync(["before-commit"], TimeSpan.FromSeconds(60));

        Assert.Single((await _driver.BillAsync("before-commit")).Items);
        Assert.Equal([Filling.Meat], (await _driver.OrderAsync("before-commit")).Lines);
        Assert.Equal(MessageIds.Derive(add.MessageId, "order", 0), bill.Items[0].MessageId);
    }

    [Fact]
    public async Task Should_send_the_stored_message_after_an_after_commit_throw_with_the_same_id_and_payload()
    {
        var add = new AddItem(Guid.NewGuid(), "after-commit", Filling.Mushrooms);
        await _driver.SetFaultsAsync($"{FaultPoints.AfterCommit}=1:throw@{add.MessageId}");
        await _driver.PublishAsync(add);

        var bill = await _driver.WaitForBillAsync("after-commit", b => b.Items.Count > 0);
        await _driver.WaitForQuiescenceAsync(["after-commit"], TimeSpan.FromSeconds(60));

        Assert.True(await _driver.FaultsFiredAsync() >= 1);
        var expectedId = MessageIds.Derive(add.MessageId, "order", 0);
        var item = Assert.Single((await _driver.BillAsync("after-commit")).Items);
        Assert.Equal(expectedId, item.MessageId);
        Assert.Equal(1, item.LineCount);
        var copies = await _driver.SentCopiesAsync(expectedId);
        Assert.NotEmpty(copies);
        Assert.Single(copies.Select(c => c.Payload).Distinct());
        Assert.Equal([Filling.Mushrooms], (await _driver.OrderAsync("after-commit")).Lines);
    }

    [Fact]
    public async Task Should_change_the_bill_once_after_an_after_dispatch_throw()
    {
        var add = new AddItem(Guid.NewGuid(), "after-dispatch", Filling.Strawberry);
        await _driver.SetFaultsAsync($"{FaultPoints.AfterDispatch}=1:throw@{add.MessageId}");
        await _driver.PublishAsync(add);

        await _driver.WaitForBillAsync("after-dispatch", b => b.Items.Count > 0);
        await _driver.WaitForQuiescenceAsync(["after-dispatch"], TimeSpan.FromSeconds(60));

        Assert.True(await _driver.FaultsFiredAsync() >= 1);
        var bill = await _driver.BillAsync("after-dispatch");
        Assert.Single(bill.Items);
        Assert.Equal(35m, bill.Total);
        Assert.Single((await _driver.SentToBillingAsync("after-dispatch")).Select(s => s.MessageId).Distinct());
    }

    [Fact]
    public async Task Should_apply_once_when_the_acknowledgement_fails()
    {
        var add = new AddItem(Guid.NewGuid(), "before-ack", Filling.SwissCheese);
        await _driver.SetFaultsAsync($"{FaultPoints.BeforeAck}=1:throw@order");
        await _driver.PublishAsync(add);

        await Eventually.WaitForAsync(_driver.FaultsFiredAsync, n => n >= 3, TimeSpan.FromSeconds(60), "three refused acknowledgements");
        await _driver.ClearFaultsAsync();
        await _driver.WaitForQuiescenceAsync(["before-ack"], TimeSpan.FromSeconds(60));

        Assert.Equal([Filling.SwissCheese], (await _driver.OrderAsync("before-ack")).Lines);
        Assert.Single((await _driver.BillAsync("before-ack")).Items);
    }
}
