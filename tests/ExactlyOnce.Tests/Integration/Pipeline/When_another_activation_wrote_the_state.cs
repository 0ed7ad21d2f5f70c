using ExactlyOnce.Grains.Messages;
using Orleans.TestingHost;

namespace ExactlyOnce.Tests.Pipeline;

/// <summary>
/// Fencing: the stored version moves under a live activation (as when a duplicate activation
/// wrote after a silo failure). Its next write fails on the ETag; it must not acknowledge, must
/// deactivate, and the message must be processed again against fresh state.
/// </summary>
[Trait("Category", "Integration")]
[Trait("Kind", "Integration")]
public sealed class When_another_activation_wrote_the_state
{
    [Fact]
    public async Task Should_not_acknowledge_deactivate_and_process_the_message_again_against_fresh_state()
    {
        await using var db = await TestDatabase.CreateAsync("fence");
        var cluster = await OrleansTestCluster.DeployAsync(db.ConnectionString, silos: 1);
        try
        {
            var driver = new PipelineDriver(cluster.Client, db);
            const string order = "fence-1";
            await driver.PublishAsync(new AddItem(Guid.NewGuid(), order, Filling.Meat));
            await driver.WaitForBillAsync(order, b => b.Items.Count == 1);

            // A write by "someone else": the live activation's ETag is now stale.
            var bumped = await db.ScalarAsync<int>("UPDATE OrleansStorage SET Version = Version + 1 WHERE GrainTypeString = 'order' RETURNING Version");
            await driver.PublishAsync(new AddItem(Guid.NewGuid(), order, Filling.Strawberry));

            // If the stale activation kept running, every retry would fail on the ETag and the add
            // would end in the dead letters; it is applied only because a fresh activation took over.
            var bill = await driver.WaitForBillAsync(order, b => b.Items.Count == 2);
            await driver.WaitForQuiescenceAsync([order], TimeSpan.FromSeconds(60));

            Assert.Equal([Filling.Meat, Filling.Strawberry], (await driver.OrderAsync(order)).Lines);
            Assert.Equal(85m, bill.Total);
            Assert.True(await db.ScalarAsync<int>("SELECT Version FROM OrleansStorage WHERE GrainTypeString = 'order'") > bumped);
            Assert.Equal(0, await driver.StreamDeadLettersAsync());
        }
        finally
        {
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }
    }
}
