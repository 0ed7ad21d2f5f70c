using ExactlyOnce.Grains;
using ExactlyOnce.Grains.Diagnostics;
using ExactlyOnce.Faults;
using ExactlyOnce.Grains.Messages;

namespace ExactlyOnce.Tests.Pipeline;

[Trait("Category", "Integration")]
[Trait("Kind", "Integration")]
public sealed class When_a_message_is_invalid_or_poison() : PipelineClusterTest("poison")
{
    [Fact]
    public async Task Should_reject_invalid_messages_to_the_dead_letters_without_changing_state_and_keep_processing()
    {
        const string order = "invalid-1";
        await Driver.PublishRawAsync(StreamNamespaces.Orders, order, new AddItem(Guid.NewGuid(), order, (Filling)99));
        await Driver.PublishRawAsync(StreamNamespaces.Orders, order, new AddItem(Guid.Empty, order, Filling.Meat));
        await Driver.PublishRawAsync(StreamNamespaces.Orders, order, new AddItem(Guid.NewGuid(), "", Filling.Meat));
        await Driver.PublishRawAsync(StreamNamespaces.Orders, order, new ProbeEvent(Guid.NewGuid()));
        var valid = new AddItem(Guid.NewGuid(), order, Filling.QuarkAndPotatoes);
        await Driver.PublishAsync(valid);

        await Driver.WaitForBillAsync(order, b => b.Items.Count == 1);
        var rejected = await Eventually.WaitForAsync(Driver.RejectedAsync, r => r.Count >= 4, TimeSpan.FromSeconds(30), "four rejected messages");
        await Driver.WaitForQuiescenceAsync([order], TimeSpan.FromSeconds(30));

        Assert.Equal(4, rejected.Count);
        Assert.Contains(rejected, r => r.Reason == "unknown filling 99");
        Assert.Contains(rejected, r => r.Reason == "MessageId is empty");
        Assert.Contains(rejected, r => r.Reason == "OrderId is missing");
        Assert.Contains(rejected, r => r.Reason.StartsWith("unknown message type", StringComparison.Ordinal));
        var state = await Driver.OrderAsync(order);
        Assert.Equal([Filling.QuarkAndPotatoes], state.Lines);
        Assert.Equal(1, state.InboxSize); // rejected messages left no trace in the state
    }

    [Fact]
    public async Task Should_move_a_message_whose_handler_keeps_failing_to_the_dead_letters_while_the_next_ones_flow()
    {
        // Unsequenced (no producer): no place in the state to wait in, so a handler failure goes to
        // the dead letters after the immediate retries.
        const string order = "poison-1";
        var poison = new AddItem(Guid.NewGuid(), order, Filling.Meat);
        await Driver.SetFaultsAsync($"{FaultPoints.BeforeCommit}=1:poison@{poison.MessageId}");
        await Driver.PublishAsync(poison);
        var behind = new AddItem(Guid.NewGuid(), order, Filling.Strawberry);
        await Driver.PublishAsync(behind);

        await Driver.WaitForBillAsync(order, b => b.Items.Count == 1, what: "the message behind the poison one to be billed");
        var rejected = await Eventually.WaitForAsync(Driver.RejectedAsync, r => r.Count >= 1, TimeSpan.FromSeconds(60), "the poison message in the dead letters");

        var letter = Assert.Single(rejected);
        Assert.Equal(poison.MessageId, letter.MessageId);
        Assert.StartsWith("handler failed, dead-lettered: PoisonFaultException", letter.Reason);
        // The delivery and its two immediate retries (the silos report their counts every second).
        Assert.Equal(3, await Eventually.WaitForAsync(Driver.FaultsFiredAsync, n => n >= 3, TimeSpan.FromSeconds(10), "three fired faults reported"));
        Assert.Equal([Filling.Strawberry], (await Driver.OrderAsync(order)).Lines);
        Assert.Equal(0, await Driver.StreamDeadLettersAsync());
        Assert.Equal(0, await Db.ScalarAsync<long>("SELECT count(*) FROM orleansstreammessage"));
    }
}
