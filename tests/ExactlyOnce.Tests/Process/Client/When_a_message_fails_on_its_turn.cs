using System.Text.Json;

namespace ExactlyOnce.Tests.Client;

/// <summary>
/// A sequenced message whose handler keeps failing on its turn (the <c>poison</c> fault), on the
/// default settings: the recoverability policy retries it at once, then after delays, then
/// dead-letters it with its reason; its producer's next message waits, visibly; a replay after the
/// fix applies it once and releases the next one; a second replay changes nothing.
/// </summary>
[Trait("Category", "Integration")]
[Trait("Kind", "Process")]
public sealed class When_a_message_fails_on_its_turn(ClientCluster cluster) : IClassFixture<ClientCluster>
{
    private readonly ClientProcess _client = cluster.Client;

    private Task<JsonElement> OkAsync(params string[] args) => _client.OkJsonAsync(args);

    private static string[] Lines(JsonElement order) => [.. order.GetProperty("lines").EnumerateArray().Select(l => l.GetString()!)];

    [Fact]
    public async Task Should_dead_letter_it_after_the_policy_retries_and_apply_it_once_when_replayed()
    {
        var poison = Guid.NewGuid().ToString();
        await OkAsync("faults", "set", $"before-commit=1:poison@{poison}");
        JsonElement letter;
        try
        {
            await OkAsync("send", "add-item", "--order", "turn-1", "--filling", "Meat", "--producer", "turn", "--id", poison);
            await OkAsync("send", "add-item", "--order", "turn-1", "--filling", "Strawberry", "--producer", "turn");
            var list = await Eventually.WaitForAsync(
                () => OkAsync("dead-letters", "list"),
                l => l.GetProperty("sequenced").GetArrayLength() == 1 && l.GetProperty("blocked").GetArrayLength() == 1,
                TimeSpan.FromSeconds(120), "the poison message dead-lettered and its producer shown blocked");
            letter = list.GetProperty("sequenced")[0];
            Assert.Equal(
                ("order/turn-1", poison, 1L, 6),
                (letter.GetProperty("receiver").GetString(), letter.GetProperty("messageId").GetString(), letter.GetProperty("sequence").GetInt64(), letter.GetProperty("failures").GetInt32()));
            Assert.StartsWith("client/turn/", letter.GetProperty("producerId").GetString());
            Assert.StartsWith("PoisonFaultException: simulated handler bug (poison) at before-commit in order", letter.GetProperty("reason").GetString());
            var spent = letter.GetProperty("lastFailureOn").GetDateTime() - letter.GetProperty("firstFailureOn").GetDateTime();
            Assert.InRange(spent, TimeSpan.FromSeconds(35), TimeSpan.FromSeconds(100)); // delayed 5 + 10 + 20 s
            var blocked = list.GetProperty("blocked")[0];
            Assert.Equal(("order/turn-1", 1L, 1), (blocked.GetProperty("receiver").GetString(), blocked.GetProperty("waitingFor").GetInt64(), blocked.GetProperty("held").GetInt32()));
            Assert.Empty(list.GetProperty("stream").EnumerateArray()); // the stream never gave up on it
            Assert.Empty(Lines(await OkAsync("show", "order", "turn-1")));
        }
        finally
        {
            await OkAsync("faults", "clear");
        }

        var label = $"s{letter.GetProperty("id").GetInt64()}";
        await OkAsync("dead-letters", "replay", label);
        var order = await Eventually.WaitForAsync(() => OkAsync("show", "order", "turn-1"), o => Lines(o).Length == 2, TimeSpan.FromSeconds(60), "the replayed #1, then #2");
        Assert.Equal(["Meat", "Strawberry"], Lines(order));

        // A second replay, then a marker from the same producer behind it: the replay changed nothing.
        await OkAsync("dead-letters", "replay", label);
        await OkAsync("send", "add-item", "--order", "turn-1", "--filling", "Mushrooms", "--producer", "turn");
        order = await Eventually.WaitForAsync(() => OkAsync("show", "order", "turn-1"), o => Lines(o).Length >= 3, TimeSpan.FromSeconds(60), "the marker applied");
        Assert.Equal(["Meat", "Strawberry", "Mushrooms"], Lines(order));
        var bill = await Eventually.WaitForAsync(() => OkAsync("show", "billing", "turn-1"), b => b.GetProperty("items").GetArrayLength() >= 3, TimeSpan.FromSeconds(60), "three bill entries");
        Assert.Equal(3, bill.GetProperty("items").GetArrayLength());
        var after = await OkAsync("dead-letters", "list");
        Assert.Empty(after.GetProperty("blocked").EnumerateArray());
        Assert.NotEqual(JsonValueKind.Null, after.GetProperty("sequenced")[0].GetProperty("replayedOn").ValueKind);
    }
}
