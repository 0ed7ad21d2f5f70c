using ExactlyOnce.Grains;
using ExactlyOnce.Faults;
using ExactlyOnce.Grains.Messages;
using ExactlyOnce.Messaging;
using ExactlyOnce.Grains.Orders;

namespace ExactlyOnce.Tests.Pipeline;

/// <summary>
/// The verifier's judge of "nothing left to happen": a producer whose later messages wait in a
/// receiver's state for an earlier one is work in progress, not a finished run, unless the earlier
/// one is in the dead letters (then an operator decides, and waiting longer changes nothing).
/// </summary>
[Trait("Category", "Integration")]
[Collection(TestCollections.MostlyWaiting)]
[Trait("Kind", "Integration")]
public sealed class When_a_producer_waits_for_an_earlier_message() : PipelineClusterTest("waits")
{
    private static AddItem Numbered(string order, string producer, long sequence, Filling filling) =>
        new(Guid.NewGuid(), order, filling) { ProducerId = producer, Sequence = sequence };

    private Task<PendingWork> PendingAsync(string order) => Driver.Client.GetGrain<IOrderGrain>(order).GetPendingWork();

    [Fact]
    public async Task Should_not_count_as_quiescent_while_a_gap_holds_its_messages_back()
    {
        const string order = "gap-1";
        var producer = ProducerIds.Client("gap-test", 1);
        await Driver.PublishAsync(Numbered(order, producer, 2, Filling.Meat));
        var blocked = await Eventually.WaitForAsync(() => PendingAsync(order), w => w.BlockedProducers.Count == 1, TimeSpan.FromSeconds(30), "#2 held back");
        Assert.Equal((producer, 0L, 1), (blocked.BlockedProducers[0].ProducerId, blocked.BlockedProducers[0].Mark, blocked.BlockedProducers[0].Held));

        var wait = await Assert.ThrowsAsync<TimeoutException>(() => Driver.WaitForQuiescenceAsync([order], TimeSpan.FromSeconds(5)));
        Assert.Contains($"waits for {producer} #1 (1 held)", wait.Message);

        await Driver.PublishAsync(Numbered(order, producer, 1, Filling.Strawberry));
        await Driver.WaitForQuiescenceAsync([order], TimeSpan.FromSeconds(60));
        Assert.Equal([Filling.Strawberry, Filling.Meat], (await Driver.OrderAsync(order)).Lines);
        Assert.True((await PendingAsync(order)).IsEmpty);
    }

    [Fact]
    public async Task Should_count_as_quiescent_once_the_message_it_waits_for_is_dead_lettered()
    {
        // Default policy: the poisoned #1 is retried (2 at once, 3 delayed), then dead-lettered (~35 s).
        const string order = "dead-1";
        var producer = ProducerIds.Client("dead-test", 1);
        var poison = Numbered(order, producer, 1, Filling.Meat);
        await Driver.SetFaultsAsync($"{FaultPoints.BeforeCommit}=1:poison@{poison.MessageId}");
        await Driver.PublishAsync(poison);
        await Driver.PublishAsync(Numbered(order, producer, 2, Filling.Strawberry));

        await Eventually.WaitForAsync(
            () => Db.ScalarAsync<long>($"SELECT count(*) FROM ExactlyOnceDeadLetter WHERE MessageId = '{poison.MessageId}'"),
            n => n == 1, TimeSpan.FromSeconds(120), "#1 dead-lettered");
        await Driver.WaitForQuiescenceAsync([order], TimeSpan.FromSeconds(60));

        var blocked = Assert.Single((await PendingAsync(order)).BlockedProducers);
        Assert.Equal((producer, 0L, 1), (blocked.ProducerId, blocked.Mark, blocked.Held));
        Assert.Empty((await Driver.OrderAsync(order)).Lines);
    }
}
