using System.Text.Json;

namespace ExactlyOnce.Tests.Client;

/// <summary>
/// Sequenced exactly-once from the client, run as a user runs it, against one silo process on the
/// default settings and PostgreSQL: send order, re-sends, a client killed between recording and
/// publishing, a whole run re-sent.
/// </summary>
[Trait("Category", "Integration")]
[Trait("Kind", "Process")]
public sealed class When_producers_number_their_messages(SequencedCluster cluster) : IClassFixture<SequencedCluster>
{
    private readonly ClientProcess _client = cluster.Client;

    private Task<JsonElement> OkAsync(params string[] args) => _client.OkJsonAsync(args);

    private Task<JsonElement> WaitAsync(string[] args, Func<JsonElement, bool> done, string what, int seconds = 90) =>
        Eventually.WaitForAsync(() => OkAsync(args), done, TimeSpan.FromSeconds(seconds), what);

    private static IEnumerable<(string Filling, int LineCount, decimal Price)> Items(JsonElement bill) =>
        bill.GetProperty("items").EnumerateArray().Select(i => (i.GetProperty("filling").GetString()!, i.GetProperty("lineCount").GetInt32(), i.GetProperty("price").GetDecimal()));

    [Fact]
    public async Task Should_apply_an_add_failing_for_20_s_before_the_remove_sent_after_it()
    {
        var add = Guid.NewGuid().ToString();
        await OkAsync("faults", "set", $"before-commit=1:throw@{add}");
        await OkAsync("send", "add-item", "--order", "seq-1", "--filling", "Meat", "--id", add);
        await OkAsync("send", "remove-item", "--order", "seq-1", "--filling", "Meat");
        await Task.Delay(TimeSpan.FromSeconds(20)); // the add keeps failing meanwhile: that is the scenario, not a wait for a result
        var during = await OkAsync("show", "order", "seq-1");
        Assert.Empty(during.GetProperty("lines").EnumerateArray());
        await OkAsync("faults", "clear");

        var bill = await WaitAsync(["show", "billing", "seq-1"], b => b.GetProperty("items").GetArrayLength() == 2, "both events billed");

        // In send order: the add, then its removal. Never "one line and +50".
        Assert.Equal([("Meat", 1, 50m), ("Meat", 0, -50m)], Items(bill));
        Assert.Equal(0m, bill.GetProperty("total").GetDecimal());
        var order = await OkAsync("show", "order", "seq-1");
        Assert.Empty(order.GetProperty("lines").EnumerateArray());
        var producer = Assert.Single(order.GetProperty("producers").EnumerateArray());
        Assert.StartsWith("client/cli/", producer.GetProperty("id").GetString());
        Assert.Equal(2, producer.GetProperty("mark").GetInt64());
    }

    [Fact]
    public async Task Should_publish_what_a_killed_client_recorded_and_apply_its_later_messages_after_it()
    {
        var crashed = await _client.RunAsync(
            new Dictionary<string, string> { ["EXACTLYONCE_CLIENT_CRASH"] = "after-record" },
            "send", "add-item", "--order", "seq-2", "--filling", "Mushrooms", "--producer", "kiosk");
        Assert.NotEqual(0, crashed.ExitCode);
        Assert.Contains("crash point 'after-record'", crashed.Stderr);

        // Published at once, but it is #2 of producer 'kiosk': held until the sweeper publishes #1.
        await OkAsync("send", "remove-item", "--order", "seq-2", "--filling", "Mushrooms", "--producer", "kiosk");
        var held = await WaitAsync(["show", "order", "seq-2"], o => o.GetProperty("producers").GetArrayLength() == 1, "the remove held");
        Assert.Empty(held.GetProperty("lines").EnumerateArray());
        Assert.Equal(0, held.GetProperty("producers")[0].GetProperty("mark").GetInt64());

        var bill = await WaitAsync(["show", "billing", "seq-2"], b => b.GetProperty("items").GetArrayLength() == 2, "the swept add and the remove billed", seconds: 120);
        Assert.Equal([("Mushrooms", 1, 45m), ("Mushrooms", 0, -45m)], Items(bill));
        var order = await OkAsync("show", "order", "seq-2");
        Assert.Empty(order.GetProperty("lines").EnumerateArray());
        Assert.StartsWith("client/kiosk/", order.GetProperty("producers")[0].GetProperty("id").GetString());
    }

    [Fact]
    public async Task Should_retire_a_finished_run_and_change_nothing_when_it_is_sent_again()
    {
        await OkAsync("load", "--orders", "3", "--items", "15", "--duplicates", "0.2", "--removes", "0.2", "--run", "seq-run");
        var first = await OkAsync("verify", "--run", "seq-run", "--timeout", "90");
        Assert.True(first.GetProperty("ok").GetBoolean(), first.ToString());
        var before = await OkAsync("show", "billing", "seq-run-0");

        // The load sealed its run; once every order applied all of it, the silo retires it: the
        // orders forget the run entirely (no mark, no id) and keep only the watermark.
        var retired = await WaitAsync(["show", "order", "seq-run-0"], o => o.GetProperty("dedupEntries").GetInt32() == 0, "the run retired", seconds: 120);
        Assert.Empty(retired.GetProperty("producers").EnumerateArray());

        var resend = await OkAsync("resend", "--run", "seq-run");
        Assert.Equal(45, resend.GetProperty("resent").GetInt32());
        Assert.StartsWith("run/seq-run/", resend.GetProperty("producerId").GetString());
        var again = await OkAsync("verify", "--run", "seq-run", "--timeout", "90");

        Assert.True(again.GetProperty("ok").GetBoolean(), again.ToString());
        Assert.Equal(0, again.GetProperty("reordered").GetInt32());
        var after = await OkAsync("show", "billing", "seq-run-0");
        Assert.Equal(Items(before), Items(after));
        Assert.Equal(1, after.GetProperty("dedupEntries").GetInt32()); // billing keeps its one grain producer
        var order = await OkAsync("show", "order", "seq-run-0");
        Assert.Equal(0, order.GetProperty("dedupEntries").GetInt32());
        Assert.True(order.GetProperty("stateBytes").GetProperty("protocol").GetInt32() > 0);
    }

    [Fact]
    public async Task Should_resend_a_recorded_id_as_recorded_and_refuse_a_different_command_under_it()
    {
        var first = await OkAsync("send", "add-item", "--order", "seq-3", "--filling", "Strawberry");
        var id = first.GetProperty("messageId").GetString()!;
        var again = await OkAsync("send", "add-item", "--order", "seq-3", "--filling", "Strawberry", "--id", id);
        Assert.True(again.GetProperty("resent").GetBoolean());
        Assert.Equal(first.GetProperty("sequence").GetInt64(), again.GetProperty("sequence").GetInt64());

        var refused = await _client.RunAsync("send", "add-item", "--order", "seq-3", "--filling", "Meat", "--id", id);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("differs, so nothing was sent", refused.Stderr);

        await OkAsync("send", "add-item", "--order", "seq-3", "--filling", "Meat"); // a marker that arrives after everything above
        var order = await WaitAsync(["show", "order", "seq-3"], o => o.GetProperty("lines").GetArrayLength() == 2, "the marker applied");
        Assert.Equal(["Strawberry", "Meat"], order.GetProperty("lines").EnumerateArray().Select(l => l.GetString()));
    }

    [Fact]
    public async Task Should_refuse_to_resend_an_unsequenced_id_older_than_the_fallback_window()
    {
        // A version 1 run, recorded eight days ago (beyond the ~7-day window): its ids live on only in the fallback.
        var old = Guid.NewGuid();
        await cluster.Db.ScalarAsync<int>($"""
            WITH r AS (INSERT INTO ExactlyOnceRun (ServiceId, Name, Mode, Orders, Items, Duplicates, CreatedOn)
                       VALUES ('{cluster.ClusterId}', 'v1-old', 'exactly-once', 1, 1, 0, now() - interval '8 days') RETURNING Name)
            INSERT INTO ExactlyOnceRunMessage (ServiceId, Run, Seq, MessageId, OrderId, Kind, Filling, Copies)
            SELECT '{cluster.ClusterId}', Name, 0, '{old}', 'v1-old-0', 'add', 'Meat', 1 FROM r RETURNING 1
            """);

        var refused = await _client.RunAsync("send", "add-item", "--order", "v1-old-0", "--filling", "Meat", "--id", old.ToString());

        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("could be applied twice: refused", refused.Stderr);
        var resend = await _client.RunAsync("resend", "--run", "v1-old");
        Assert.Equal(2, resend.ExitCode);
        Assert.Contains("no recorded producer", resend.Stderr);
    }
}
