using System.Text.Json;

namespace ExactlyOnce.Tests.Client;

/// <summary>
/// One order receives 25,000 sequenced messages through the real pipeline (client, streams, silo
/// process, PostgreSQL): all applied, a handful of dedup entries, and the state each write
/// rewrites is as big after 25,000 messages as after 1,000.
/// </summary>
[Trait("Category", "Integration")]
[Trait("Kind", "Process")]
public sealed class When_one_order_receives_25000_messages(SequencedCluster cluster) : IClassFixture<SequencedCluster>
{
    private readonly ClientProcess _client = cluster.Client;

    private Task<JsonElement> OkAsync(params string[] args) => _client.OkJsonAsync(args);

    /// <summary>Sends one add then removes (the first takes the line away, the others find nothing), so the order's data stays empty.</summary>
    private async Task SendAsync(string run, int messages)
    {
        await OkAsync("load", "--orders", "1", "--items", $"{messages}", "--removes", "1", "--run", run);
        var verify = await OkAsync("verify", "--run", run, "--timeout", "600");
        Assert.True(verify.GetProperty("ok").GetBoolean(), verify.ToString());
        var order = await OkAsync("show", "order", $"{run}-0");
        Assert.True(order.GetProperty("dedupEntries").GetInt32() <= 10, order.ToString());
        Assert.Empty(order.GetProperty("lines").EnumerateArray());
    }

    /// <summary>
    /// The stored sizes once the finished run is retired and the recovery reminder has gone (so both
    /// orders hold the same kind of protocol state: the reminder flag is written only while it is set).
    /// </summary>
    private Task<JsonElement> SettledSizesAsync(string run) =>
        Eventually.WaitForAsync(
            () => OkAsync("show", "order", $"{run}-0"),
            o => o.GetProperty("dedupEntries").GetInt32() == 0 && !o.GetProperty("recoveryReminder").GetBoolean(),
            TimeSpan.FromSeconds(180),
            $"run {run} retired and its recovery reminder gone");

    [Fact]
    public async Task Should_apply_all_with_a_state_write_that_does_not_grow()
    {
        // Run names of one length, so the two order ids (part of the stored state) are as long.
        await SendAsync("n01k", 1_000);
        await SendAsync("n25k", 25_000);

        var (small, large) = (await SettledSizesAsync("n01k"), await SettledSizesAsync("n25k"));
        var (before, after) = (small.GetProperty("stateBytes"), large.GetProperty("stateBytes"));
        // Only digits (incarnations, the watermark, the outgoing sequence) may differ.
        Assert.InRange(after.GetProperty("total").GetInt32() - before.GetProperty("total").GetInt32(), -8, 8);
        Assert.InRange(after.GetProperty("protocol").GetInt32() - before.GetProperty("protocol").GetInt32(), -8, 8);
    }
}
