using ExactlyOnce.Grains.Billing;
using ExactlyOnce.Grains.Messages;
using Npgsql;
using NpgsqlTypes;
using ExactlyOnce.Messaging;

namespace ExactlyOnce.Tests.Upgrade;

/// <summary>
/// Upgrade from version 1 (time-windowed inbox, no sequences). The fixtures are states a version 1
/// silo wrote to PostgreSQL (captured from a running version 1 cluster, byte for byte): an order with
/// one processed id and one committed, unsent event; a bill with two processed ids. They load and
/// go on: the pending event is sent, the stored ids keep deduplicating as the fallback set, and
/// sequenced messages are applied on top.
/// </summary>
[Trait("Category", "Integration")]
[Trait("Kind", "Integration")]
public sealed class When_a_version_1_state_is_loaded() : PipelineClusterTest("upgrade")
{
    // Ids inside the fixtures.
    private static readonly Guid OrderCommandId = Guid.Parse("50dbebe8-3b71-450a-9adc-d9031fbe7292");
    private static readonly Guid PendingEventId = Guid.Parse("f98f3dab-366b-88b4-9c0b-6c692d1caee8");
    private static readonly Guid BilledEventId = Guid.Parse("12798fe1-f89b-8a1e-aa43-9856af5d1e5f");

    private async Task StoreFixtureAsync(string stateName, string key, string fixture)
    {
        var payload = await File.ReadAllBytesAsync(Path.Combine(AppContext.BaseDirectory, "Upgrade", "Fixtures", fixture));
        await using var connection = new NpgsqlConnection(Db.ConnectionString);
        await connection.OpenAsync();
        await using var insert = new NpgsqlCommand("""
            INSERT INTO OrleansStorage (ServiceId, GrainTypeString, GrainIdN0, GrainIdN1, GrainIdExtensionString, PayloadBinary, Version)
            VALUES (@service, @state, 0, 0, @key, @payload, 1)
            """, connection);
        insert.Parameters.AddWithValue("service", Cluster.Options.ServiceId);
        insert.Parameters.AddWithValue("state", stateName);
        insert.Parameters.AddWithValue("key", key);
        insert.Parameters.AddWithValue("payload", NpgsqlDbType.Bytea, payload);
        Assert.Equal(1, await insert.ExecuteNonQueryAsync());
    }

    [Fact]
    public async Task Should_send_its_pending_event_keep_its_ids_and_apply_sequenced_messages_on_top()
    {
        await StoreFixtureAsync("order", "v1b", "v1-order-with-pending-outbox.json");

        // A version 1 client retrying its command: the stored id still deduplicates.
        await Driver.PublishAsync(new AddItem(OrderCommandId, "v1b", Filling.Meat));
        // The pending event went out on activation; billing applies it (unsequenced, fallback dedup).
        var bill = await Driver.WaitForBillAsync("v1b", b => b.Items.Count == 1, what: "the version 1 outbox sent");
        Assert.Equal((PendingEventId, 1), (bill.Items[0].MessageId, bill.Items[0].LineCount));

        // A sequenced command on top: applied after the stored line, its event numbered by the order.
        await Driver.PublishAsync((OrderCommand)new AddItem(Guid.NewGuid(), "v1b", Filling.Mushrooms).WithSequence("client/upgrade/1", 1));
        bill = await Driver.WaitForBillAsync("v1b", b => b.Items.Count == 2, what: "the sequenced add billed");

        var order = await Driver.OrderAsync("v1b");
        Assert.Equal([Filling.Meat, Filling.Mushrooms], order.Lines);
        Assert.Equal(1, order.InboxSize); // the version 1 id, kept as the fallback set
        Assert.Equal(2, bill.Items[1].LineCount);
        var producer = Assert.Single((await Driver.Client.GetGrain<IBillingGrain>("v1b").GetProtocol()).Producers);
        Assert.StartsWith("grain/order/v1b/", producer.ProducerId);
        Assert.Equal(1, producer.Mark);

        // Read as JSON, written back in the binary format (the default) by the first write.
        var stored = await Db.ScalarAsync<byte[]>($"SELECT PayloadBinary FROM OrleansStorage WHERE GrainTypeString = 'order' AND GrainIdExtensionString = 'v1b'");
        Assert.True(ExactlyOnce.PostgreSql.StateSerializer.IsBinary(stored), "the order's state is still stored as JSON after a write");
    }

    [Fact]
    public async Task Should_recognise_ids_it_stored_whether_they_come_back_unsequenced_or_sequenced()
    {
        await StoreFixtureAsync("billing", "v1a", "v1-billing-with-inbox.json");

        await Driver.PublishRawAsync("billing", "v1a", new ItemAdded(BilledEventId, "v1a", Filling.Meat, 1, DeliveryMode.ExactlyOnce));
        await Driver.PublishRawAsync("billing", "v1a", new ItemAdded(BilledEventId, "v1a", Filling.Meat, 1, DeliveryMode.ExactlyOnce).WithSequence("grain/order/v1a/99", 1));
        // A new event behind them, so the wait ends only once the two copies were handled.
        await Driver.PublishRawAsync("billing", "v1a", new ItemAdded(Guid.NewGuid(), "v1a", Filling.Strawberry, 3, DeliveryMode.ExactlyOnce).WithSequence("grain/order/v1a/99", 2));

        var bill = await Driver.WaitForBillAsync("v1a", b => b.Items.Count >= 3, what: "the new event billed");
        Assert.Equal(3, bill.Items.Count);
        Assert.Equal(95m + 35m, bill.Total);
        Assert.Equal(2, bill.InboxSize);
    }
}
