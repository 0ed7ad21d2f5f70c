using System.Text.Json;

namespace ExactlyOnce.Tests.Client;

/// <summary>
/// A sequenced message that keeps failing on its turn ends in the stream provider's dead letters
/// (the client cluster's silo gives up after 2 attempts): its producer's next message waits, visibly;
/// discarding its position lets the next one through; a replay after that changes nothing.
/// </summary>
[Trait("Category", "Integration")]
public sealed class When_a_message_fails_on_its_turn(ClientCluster cluster) : IClassFixture<ClientCluster>
{
    private readonly ClientProcess _client = cluster.Client;

    private Task<JsonElement> OkAsync(params string[] args) => _client.OkJsonAsync(args);

    [Fact]
    public async Task Should_block_only_its_producer_until_its_position_is_discarded()
    {
        var poison = Guid.NewGuid().ToString();
        await OkAsync("faults", "set", $"before-commit=1:throw@{poison}");
        JsonElement letter;
        try
        {
            await OkAsync("send", "add-item", "--order", "turn-1", "--filling", "Meat", "--producer", "turn", "--id", poison);
            await OkAsync("send", "add-item", "--order", "turn-1", "--filling", "Strawberry", "--producer", "turn");
            var list = await Eventually.WaitForAsync(
                () => OkAsync("dead-letters", "list"),
                l => l.GetProperty("stream").EnumerateArray().Any(d => d.GetProperty("messageId").GetString() == poison)
                    && l.GetProperty("blocked").GetArrayLength() == 1,
                TimeSpan.FromSeconds(120), "the poison message dead-lettered and its producer shown blocked");
            letter = list.GetProperty("stream").EnumerateArray().Single(d => d.GetProperty("messageId").GetString() == poison);
            Assert.Equal("orders/turn-1", letter.GetProperty("stream").GetString());
            Assert.Equal(1, letter.GetProperty("sequence").GetInt64());
            var blocked = list.GetProperty("blocked")[0];
            Assert.Equal(("order/turn-1", 1L, 1), (blocked.GetProperty("receiver").GetString(), blocked.GetProperty("waitingFor").GetInt64(), blocked.GetProperty("held").GetInt32()));
            Assert.Empty((await OkAsync("show", "order", "turn-1")).GetProperty("lines").EnumerateArray());

            var discarded = await OkAsync("dead-letters", "discard", $"{letter.GetProperty("id").GetInt64()}");
            Assert.Equal("tombstone", discarded.GetProperty("filledBy").GetString());
        }
        finally
        {
            await OkAsync("faults", "clear");
        }

        var order = await Eventually.WaitForAsync(() => OkAsync("show", "order", "turn-1"), o => o.GetProperty("lines").GetArrayLength() == 1, TimeSpan.FromSeconds(60), "#2 applied");
        Assert.Equal(["Strawberry"], order.GetProperty("lines").EnumerateArray().Select(l => l.GetString()));

        // The real message comes back after its position was filled: a duplicate, nothing changes.
        await OkAsync("dead-letters", "replay", $"{letter.GetProperty("id").GetInt64()}");
        await Eventually.WaitForAsync(() => cluster.Db.ScalarAsync<long>($"SELECT count(*) FROM orleansstreammessage WHERE serviceid = '{cluster.ClusterId}'"),
            n => n == 0, TimeSpan.FromSeconds(60), "the replayed message consumed");
        order = await OkAsync("show", "order", "turn-1");
        Assert.Equal(["Strawberry"], order.GetProperty("lines").EnumerateArray().Select(l => l.GetString()));
        Assert.Empty((await OkAsync("dead-letters", "list")).GetProperty("blocked").EnumerateArray());
    }
}
