using ExactlyOnce.Faults;
using ExactlyOnce.Grains.Messages;
using ExactlyOnce.Messaging;
using Orleans.TestingHost;
using Xunit.Abstractions;

namespace ExactlyOnce.Tests.Pipeline;

/// <summary>
/// The lesson of the project in one test: 200 adds per mode with after-commit throws at 20%:
/// at-most-once loses bill entries, at-least-once duplicates some, exactly-once neither.
/// </summary>
[Trait("Category", "Integration")]
[Trait("Kind", "Integration")]
public sealed class When_one_workload_runs_under_each_delivery_mode(ITestOutputHelper output)
{
    private const int Orders = 10;
    private const int AddsPerOrder = 20;

    [Fact]
    public async Task Should_lose_at_most_once_duplicate_at_least_once_and_neither_exactly_once()
    {
        await using var db = await TestDatabase.CreateAsync("modes");
        var cluster = await OrleansTestCluster.DeployAsync(db.ConnectionString, silos: 1);
        try
        {
            var driver = new PipelineDriver(cluster.Client, db);
            await driver.SetFaultsAsync($"{FaultPoints.AfterCommit}=0.2:throw");

            var sent = new Dictionary<DeliveryMode, List<AddItem>>();
            foreach (var mode in Enum.GetValues<DeliveryMode>())
            {
                sent[mode] = [];
                for (var i = 0; i < Orders * AddsPerOrder; i++)
                {
                    var add = new AddItem(Guid.NewGuid(), $"{mode}-{i % Orders}", (Filling)(i % 5 + 1), mode);
                    sent[mode].Add(add);
                    await driver.PublishAsync(add);
                }
            }

            var allOrders = sent.Values.SelectMany(v => v).Select(a => a.OrderId).Distinct().ToList();
            await driver.WaitForQuiescenceAsync(allOrders, TimeSpan.FromMinutes(4));
            var fired = await driver.FaultsFiredAsync();

            var results = new Dictionary<DeliveryMode, (int Lost, int Duplicated, int Lines)>();
            foreach (var (mode, adds) in sent)
            {
                var billItems = new List<Guid>();
                var lines = 0;
                foreach (var orderId in adds.Select(a => a.OrderId).Distinct())
                {
                    billItems.AddRange((await driver.BillAsync(orderId)).Items.Select(i => i.MessageId));
                    lines += (await driver.OrderAsync(orderId)).Lines.Count;
                }

                var expected = adds.Select(a => MessageIds.Derive(a.MessageId, "order", 0)).ToHashSet();
                var lost = expected.Count(id => !billItems.Contains(id));
                var duplicated = billItems.Count - billItems.Distinct().Count();
                results[mode] = (lost, duplicated, lines);
                output.WriteLine($"{mode}: sent {adds.Count}, order lines {lines}, bill entries {billItems.Count}, lost {lost}, duplicated {duplicated}");
                Assert.All(billItems, id => Assert.Contains(id, expected)); // no ghosts in any mode
            }

            output.WriteLine($"faults fired: {fired}");
            Assert.True(results[DeliveryMode.AtMostOnce].Lost > 0, "at-most-once should lose bill entries");
            Assert.Equal(0, results[DeliveryMode.AtMostOnce].Duplicated);
            Assert.True(results[DeliveryMode.AtLeastOnce].Duplicated > 0, "at-least-once should duplicate bill entries");
            Assert.Equal(0, results[DeliveryMode.AtLeastOnce].Lost);
            Assert.Equal((0, 0, Orders * AddsPerOrder), results[DeliveryMode.ExactlyOnce]);
        }
        finally
        {
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }
    }
}
