using ExactlyOnce.Grains;
using ExactlyOnce.Grains.Messages;
using ExactlyOnce.Hosting;
using ExactlyOnce.Silo;
using ExactlyOnce.PostgreSql;
using ExactlyOnce.Silo.Storage;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Hosting;
using Orleans.Storage;
using Orleans.TestingHost;

namespace ExactlyOnce.Tests.Pipeline;

/// <summary>
/// State identity: the ADO.NET provider reads "01", "010" and "0a" as the hex numbers 1, 16 and
/// 10, so without the key mapping of the "postgres" storage these orders would share their
/// state (and their bill) with orders "1", "10" and "a" (Orleans issue 9706).
/// </summary>
[Trait("Category", "Integration")]
[Trait("Kind", "Integration")]
public sealed class When_order_ids_differ_only_by_leading_zeros
{
    [Fact]
    public async Task Should_keep_each_order_and_its_bill_apart()
    {
        var orders = new Dictionary<string, Filling[]>
        {
            ["1"] = [Filling.Meat],
            ["01"] = [Filling.Mushrooms],
            ["10"] = [Filling.QuarkAndPotatoes],
            ["010"] = [Filling.SwissCheese, Filling.Strawberry],
            ["a"] = [Filling.Strawberry],
            ["0a"] = [Filling.Meat, Filling.Mushrooms],
        };

        await using var db = await TestDatabase.CreateAsync("zeros");
        var cluster = await OrleansTestCluster.DeployAsync(db.ConnectionString, silos: 1);
        try
        {
            var driver = new PipelineDriver(cluster.Client, db);
            foreach (var (order, fillings) in orders)
            {
                foreach (var filling in fillings)
                {
                    await driver.PublishAsync(new AddItem(Guid.NewGuid(), order, filling));
                }
            }

            foreach (var (order, fillings) in orders)
            {
                await driver.WaitForBillAsync(order, b => b.Items.Count >= fillings.Length);
            }

            await driver.WaitForQuiescenceAsync(orders.Keys, TimeSpan.FromSeconds(60));

            foreach (var (order, fillings) in orders)
            {
                var view = await driver.OrderAsync(order);
                var bill = await driver.BillAsync(order);
                Assert.Equal(fillings, view.Lines);
                Assert.Equal(fillings.Length, view.InboxSize);
                Assert.Equal(fillings, bill.Items.Select(i => i.Filling));
                Assert.Equal(fillings.Sum(Menu.PriceOf), bill.Total);
            }

            // One row per order (and per bill); the folding ids are stored as string keys "~" + id.
            var rows = await db.QueryAsync("SELECT GrainIdN0, GrainIdN1, GrainIdExtensionString FROM OrleansStorage WHERE GrainTypeString = 'order'");
            Assert.Equal(
                new (long, long, string?)[] { (0, 0, "~01"), (0, 0, "~010"), (0, 0, "~0a"), (0, 0, "~a"), (0, 1, null), (0, 16, null) },
                rows.Select(r => ((long)r[0]!, (long)r[1]!, (string?)r[2])).Order());
            Assert.Equal(orders.Count, await db.ScalarAsync<long>("SELECT count(*) FROM OrleansStorage WHERE GrainTypeString = 'billing'"));
        }
        finally
        {
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }
    }

    [Fact]
    public async Task Should_still_load_orders_a_silo_without_the_mapping_stored_under_canonical_ids()
    {
        // Ids that Orleans' own formatting produces ("1", "A" for ten) and plain strings keep their rows.
        var orders = new Dictionary<string, Filling>
        {
            ["1"] = Filling.Meat,
            ["A"] = Filling.Mushrooms,
            ["order-7"] = Filling.Strawberry,
        };

        await using var db = await TestDatabase.CreateAsync("zeros_upgrade");
        var serviceId = $"svc-{Guid.NewGuid():N}"[..12];

        var before = await OrleansTestCluster.DeployAsync<PlainAdoNetGrainStorage>(db.ConnectionString, silos: 1, serviceId);
        try
        {
            Assert.IsType<AdoNetGrainStorage>(GrainStorageOf(before));
            var driver = new PipelineDriver(before.Client, db);
            foreach (var (order, filling) in orders)
            {
                await driver.PublishAsync(new AddItem(Guid.NewGuid(), order, filling));
            }

            foreach (var order in orders.Keys)
            {
                await driver.WaitForBillAsync(order, b => b.Items.Count == 1);
            }

            await driver.WaitForQuiescenceAsync(orders.Keys, TimeSpan.FromSeconds(60));
        }
        finally
        {
            await before.StopAllSilosAsync();
            await before.DisposeAsync();
        }

        var storedRows = await db.ScalarAsync<long>("SELECT count(*) FROM OrleansStorage WHERE GrainTypeString IN ('order', 'billing')");
        Assert.Equal(2 * orders.Count, storedRows);

        var after = await OrleansTestCluster.DeployAsync(db.ConnectionString, silos: 1, serviceId);
        try
        {
            Assert.IsType<DistinctKeyGrainStorage>(GrainStorageOf(after));
            var driver = new PipelineDriver(after.Client, db);
            foreach (var (order, filling) in orders)
            {
                Assert.Equal([filling], (await driver.OrderAsync(order)).Lines);
                Assert.Equal([filling], (await driver.BillAsync(order)).Items.Select(i => i.Filling));
            }

            // The loaded state carries the stored version: the next commit updates the same row.
            await driver.PublishAsync(new AddItem(Guid.NewGuid(), "1", Filling.SwissCheese));
            var bill = await driver.WaitForBillAsync("1", b => b.Items.Count == 2);
            await driver.WaitForQuiescenceAsync(orders.Keys, TimeSpan.FromSeconds(60));

            Assert.Equal([Filling.Meat, Filling.SwissCheese], (await driver.OrderAsync("1")).Lines);
            Assert.Equal(Menu.PriceOf(Filling.Meat) + Menu.PriceOf(Filling.SwissCheese), bill.Total);
            Assert.Equal(storedRows, await db.ScalarAsync<long>("SELECT count(*) FROM OrleansStorage WHERE GrainTypeString IN ('order', 'billing')"));
        }
        finally
        {
            await after.StopAllSilosAsync();
            await after.DisposeAsync();
        }
    }

    /// <summary>What <c>[PersistentState(..., "postgres")]</c> resolves to on the cluster's first silo.</summary>
    private static IGrainStorage GrainStorageOf(TestCluster cluster) =>
        ((InProcessSiloHandle)cluster.Silos[0]).ServiceProvider.GetRequiredKeyedService<IGrainStorage>(OrleansNames.GrainStorage);

    /// <summary>The storage as it was before the mapping: ADO.NET directly under the name the grains use.</summary>
    private sealed class PlainAdoNetGrainStorage : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder) =>
            siloBuilder.AddAdoNetGrainStorage(OrleansNames.GrainStorage, o =>
            {
                o.Invariant = StreamingExtensions.NpgsqlInvariant;
                o.ConnectionString = siloBuilder.Configuration[OrleansTestCluster.ConnectionKey]!;
            });
    }
}
