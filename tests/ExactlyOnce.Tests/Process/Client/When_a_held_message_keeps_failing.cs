using System.Text.Json;

namespace ExactlyOnce.Tests.Client;

/// <summary>
/// A held message whose handler keeps failing, run from the client against a silo process: the
/// message that filled the gap is applied, the failing one goes to the dead letters with its
/// reason, its producer waits (visible), and an operator either discards its position (tombstone)
/// or replays it after the fix (applied once, a second replay changes nothing). Default settings:
/// the failing message is dead-lettered after the policy's immediate and delayed retries (~35 s).
/// </summary>
[Trait("Category", "Integration")]
[Collection(TestCollections.MostlyWaiting)]
[Trait("Kind", "Process")]
public sealed class When_a_held_message_keeps_failing : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private SiloProcess _silo = null!;
    private ClientProcess _client = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync("held");
        var cluster = $"held-{Guid.NewGuid():N}"[..12];
        _silo = SiloProcess.Start(_db.ConnectionString, cluster, SiloProcess.FaultInjectionOn);
        await _silo.WaitStartedAsync(TimeSpan.FromSeconds(60));
        _client = new ClientProcess(_db.ConnectionString, cluster);
    }

    public async Task DisposeAsync()
    {
        await _silo.DisposeAsync();
        await _db.DisposeAsync();
    }

    private Task<JsonElement> OkAsync(params string[] args) => _client.OkJsonAsync(args);

    private Task<JsonElement> WaitAsync(string[] args, Func<JsonElement, bool> done, string what) =>
        Eventually.WaitForAsync(() => OkAsync(args), done, TimeSpan.FromSeconds(120), what);

    /// <summary>#1 recorded by a client killed before publishing (the sweeper sends it ~30 s later), #2 failing, #3 behind it.</summary>
    private async Task<string> ArrangeAsync(string order, string producer, string failingId)
    {
        var crashed = await _client.RunAsync(
            new Dictionary<string, string> { ["EXACTLYONCE_CLIENT_CRASH"] = "after-record" },
            "send", "add-item", "--order", order, "--filling", "Meat", "--producer", producer);
        Assert.NotEqual(0, crashed.ExitCode);
        await OkAsync("send", "add-item", "--order", order, "--filling", "Mushrooms", "--producer", producer, "--id", failingId);
        await OkAsync("send", "add-item", "--order", order, "--filling", "Strawberry", "--producer", producer);
        return (await OkAsync("show", "order", order)).GetProperty("orderId").GetString()!;
    }

    [Fact]
    public async Task Should_dead_letter_it_then_unblock_the_producer_by_discard_or_apply_it_once_by_replay()
    {
        var (failX, failY) = (Guid.NewGuid().ToString(), Guid.NewGuid().ToString());
        await OkAsync("faults", "set", $"before-commit=1:poison@{failX}", $"before-commit=1:poison@{failY}");
        await ArrangeAsync("held-x", "dl-x", failX);
        await ArrangeAsync("held-y", "dl-y", failY);

        // The gap-filler (#1, swept) is applied; #2 fails and is dead-lettered; #3 waits behind it.
        var list = await WaitAsync(["dead-letters", "list"], l => l.GetProperty("sequenced").GetArrayLength() == 2, "both failing messages dead-lettered");
        var letters = list.GetProperty("sequenced").EnumerateArray().ToDictionary(l => l.GetProperty("streamKey").GetString()!);
        Assert.All(letters.Values, l => Assert.Equal(2, l.GetProperty("sequence").GetInt64()));
        Assert.StartsWith("PoisonFaultException: simulated handler bug (poison) at before-commit", letters["held-x"].GetProperty("reason").GetString());
        Assert.All(letters.Values, l => Assert.Equal(6, l.GetProperty("failures").GetInt32())); // 1 + 2 immediate + 3 delayed
        Assert.All(letters.Values, l => Assert.True(
            l.GetProperty("lastFailureOn").GetDateTime() - l.GetProperty("firstFailureOn").GetDateTime() >= TimeSpan.FromSeconds(35)));
        var blocked = list.GetProperty("blocked").EnumerateArray().ToList();
        Assert.Equal(2, blocked.Count);
        Assert.All(blocked, b => Assert.Equal((2L, 1), (b.GetProperty("waitingFor").GetInt64(), b.GetProperty("held").GetInt32())));
        var x = await OkAsync("show", "order", "held-x");
        Assert.Equal(["Meat"], x.GetProperty("lines").EnumerateArray().Select(l => l.GetString()));

        // Discard: a tombstone fills #2, #3 follows.
        var discarded = await OkAsync("dead-letters", "discard", $"s{letters["held-x"].GetProperty("id").GetInt64()}");
        Assert.Equal("tombstone", discarded.GetProperty("filledBy").GetString());
        x = await WaitAsync(["show", "order", "held-x"], o => o.GetProperty("lines").GetArrayLength() == 2, "#3 applied after the tombstone");
        Assert.Equal(["Meat", "Strawberry"], x.GetProperty("lines").EnumerateArray().Select(l => l.GetString()));

        // Replay after the fix: #2 applied once, then #3; a second replay changes nothing.
        await OkAsync("faults", "clear");
        var replayId = $"s{letters["held-y"].GetProperty("id").GetInt64()}";
        await OkAsync("dead-letters", "replay", replayId);
        var y = await WaitAsync(["show", "order", "held-y"], o => o.GetProperty("lines").GetArrayLength() == 3, "#2 and #3 applied after the replay");
        Assert.Equal(["Meat", "Mushrooms", "Strawberry"], y.GetProperty("lines").EnumerateArray().Select(l => l.GetString()));
        await OkAsync("dead-letters", "replay", replayId);
        await OkAsync("send", "add-item", "--order", "held-y", "--filling", "Meat", "--producer", "dl-y"); // #4: a marker behind the second replay
        y = await WaitAsync(["show", "order", "held-y"], o => o.GetProperty("lines").GetArrayLength() >= 4, "the marker applied");
        Assert.Equal(["Meat", "Mushrooms", "Strawberry", "Meat"], y.GetProperty("lines").EnumerateArray().Select(l => l.GetString()));
        var bill = await WaitAsync(["show", "billing", "held-y"], b => b.GetProperty("items").GetArrayLength() == 4, "four bill entries");
        Assert.Equal(50m + 45m + 35m + 50m, bill.GetProperty("total").GetDecimal());
        Assert.Empty((await OkAsync("dead-letters", "list")).GetProperty("blocked").EnumerateArray());
    }
}
