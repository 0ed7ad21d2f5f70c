using System.Text.Json;

namespace ExactlyOnce.Tests.Client;

/// <summary>
/// An infrastructure failure of billing that lasts three minutes (the <c>throw</c> fault, on the
/// default settings): the event is kept and retried with capped back-off for as long as it lasts,
/// never dead-lettered, and applied once after the fault is cleared. Before the recoverability
/// policy, the stream gave up after about a minute and the event was only in the dead letters.
/// </summary>
[Trait("Category", "Integration")]
[Collection(TestCollections.MostlyWaiting)]
[Trait("Kind", "Process")]
public sealed class When_billing_fails_for_three_minutes(ClientCluster cluster) : IClassFixture<ClientCluster>
{
    private readonly ClientProcess _client = cluster.Client;

    private Task<JsonElement> OkAsync(params string[] args) => _client.OkJsonAsync(args);

    [Fact]
    public async Task Should_apply_the_event_once_after_the_fault_is_cleared_with_nothing_in_the_dead_letters()
    {
        await OkAsync("faults", "set", "before-commit=1:throw@billing");
        try
        {
            await OkAsync("send", "add-item", "--order", "hiccup-1", "--filling", "Meat");
            var held = await Eventually.WaitForAsync(
                () => OkAsync("show", "billing", "hiccup-1"),
                b => b.GetProperty("producers").EnumerateArray().Any(p => p.GetProperty("held").GetInt32() == 1),
                TimeSpan.FromSeconds(60), "the event kept by billing for a delayed retry");
            Assert.Empty(held.GetProperty("items").EnumerateArray());
            await Task.Delay(TimeSpan.FromMinutes(3));

            var during = await OkAsync("show", "billing", "hiccup-1");
            Assert.Empty(during.GetProperty("items").EnumerateArray());
            var producer = during.GetProperty("producers").EnumerateArray().Single(p => p.GetProperty("held").GetInt32() == 1);
            Assert.True(producer.GetProperty("heldFailures").GetInt32() >= 9, $"retried {producer.GetProperty("heldFailures").GetInt32()} times in 3 min");
            var letters = await OkAsync("dead-letters", "list");
            Assert.Empty(letters.GetProperty("sequenced").EnumerateArray());
            Assert.Empty(letters.GetProperty("stream").EnumerateArray());
        }
        finally
        {
            await OkAsync("faults", "clear");
        }

        var bill = await Eventually.WaitForAsync(
            () => OkAsync("show", "billing", "hiccup-1"), b => b.GetProperty("items").GetArrayLength() > 0,
            TimeSpan.FromSeconds(60), "the event applied after the fault was cleared (back-off is capped at 30 s)");
        var verdict = await OkAsync("dead-letters", "list");
        Assert.Single(bill.GetProperty("items").EnumerateArray());
        Assert.Equal(50m, bill.GetProperty("total").GetDecimal());
        Assert.Empty(verdict.GetProperty("sequenced").EnumerateArray());
        Assert.Empty(verdict.GetProperty("stream").EnumerateArray());
        Assert.Empty(verdict.GetProperty("rejected").EnumerateArray());
    }
}
