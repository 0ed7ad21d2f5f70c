using ExactlyOnce.Grains;
using ExactlyOnce.Grains.Diagnostics;
using ExactlyOnce.Grains.Faults;
using ExactlyOnce.Grains.Messages;
using Orleans.TestingHost;

namespace ExactlyOnce.Tests.Pipeline;

[Trait("Category", "Integration")]
public sealed class When_a_message_is_invalid_or_poison : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private TestCluster _cluster = null!;
    private PipelineDriver _driver = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync("poison");
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
    public async Task Should_reject_invalid_messages_to_the_dead_letters_without_changing_state_and_keep_processing()
    {
        const string order = "invalid-1";
        await _driver.PublishRawAsync(StreamNamespaces.Orders, order, new AddItem(Guid.NewGuid(), order, (Filling)99));
        await _driver.PublishRawAsync(StreamNamespaces.Orders, order, new AddItem(Guid.Empty, order, Filling.Meat));
        await _driver.PublishRawAsync(StreamNamespaces.Orders, order, new AddItem(Guid.NewGuid(), "", Filling.Meat));
        await _driver.PublishRawAsync(StreamNamespaces.Orders, order, new ProbeEvent(Guid.NewGuid()));
        var valid = new AddItem(Guid.NewGuid(), order, Filling.QuarkAndPotatoes);
        await _driver.PublishAsync(valid);

        await _driver.WaitForBillAsync(order, b => b.Items.Count == 1);
        var rejected = await Eventually.WaitForAsync(_driver.RejectedAsync, r => r.Count >= 4, TimeSpan.FromSeconds(30), "four rejected messages");
        await _driver.WaitForQuiescenceAsync([order], TimeSpan.FromSeconds(30));

        Assert.Equal(4, rejected.Count);
        Assert.Contains(rejected, r => r.Reason == "unknown filling 99");
        Assert.Contains(rejected, r => r.Reason == "MessageId is empty");
        Assert.Contains(rejected, r => r.Reason == "OrderId is missing");
        Assert.Contains(rejected, r => r.Reason.StartsWith("unknown message type", StringComparison.Ordinal));
        var state = await _driver.OrderAsync(order);
        Assert.Equal([Filling.QuarkAndPotatoes], state.Lines);
        Assert.Equal(1, state.InboxSize); // rejected messages left no trace in the state
    }

    [Fact]
    public async Task Should_move_a_message_whose_handler_keeps_failing_to_the_dead_letters_while_the_next_ones_flow()
    {
        const string order = "poison-1";
        var poison = new AddItem(Guid.NewGuid(), order, Filling.Meat);
        await _driver.SetFaultsAsync($"{FaultPoints.BeforeCommit}=1:throw@{poison.MessageId}");
        await _driver.PublishAsync(poison);
        var behind = new AddItem(Guid.NewGuid(), order, Filling.Strawberry);
        await _driver.PublishAsync(behind);

        await _driver.WaitForBillAsync(order, b => b.Items.Count == 1, what: "the message behind the poison one to be billed");
        var deadLetters = await Eventually.WaitForAsync(_driver.StreamDeadLettersAsync, n => n >= 1, TimeSpan.FromMinutes(3), "the poison message in OrleansStreamDeadLetter");

        Assert.Equal(1, deadLetters);
        Assert.Equal([Filling.Strawberry], (await _driver.OrderAsync(order)).Lines);
        Assert.Equal(0, await _db.ScalarAsync<long>("SELECT count(*) FROM orleansstreammessage"));
    }
}
