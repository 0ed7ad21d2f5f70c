using System.Text.Json;
using ExactlyOnce.Hosting;

namespace ExactlyOnce.Tests.Client;

/// <summary>Every client command against a real cluster (one silo process, PostgreSQL), run as a user runs it.</summary>
[Trait("Category", "Integration")]
[Trait("Kind", "Process")]
public sealed class When_the_client_drives_a_cluster(ClientCluster cluster) : IClassFixture<ClientCluster>
{
    private readonly ClientProcess _client = cluster.Client;

    private async Task<ClientProcess.Result> OkAsync(params string[] args)
    {
        var result = await _client.RunAsync(args);
        Assert.True(result.ExitCode == 0, result.ToString());
        return result;
    }

    private async Task<JsonElement> WaitJsonAsync(string[] args, Func<JsonElement, bool> done, string what) =>
        await Eventually.WaitForAsync(async () => (await OkAsync(args)).Json, done, TimeSpan.FromSeconds(60), what);

    [Fact]
    public async Task Should_send_a_duplicate_by_hand_and_show_it_ignored()
    {
        var first = (await OkAsync("send", "add-item", "--order", "cli-1", "--filling", "Meat", "--json")).Json;
        var id = first.GetProperty("messageId").GetString()!;
        var again = (await OkAsync("send", "add-item", "--order", "cli-1", "--filling", "Meat", "--id", id, "--json")).Json;
        Assert.Equal(id, again.GetProperty("messageId").GetString());
        await OkAsync("send", "add-item", "--order", "cli-1", "--filling", "strawberry");

        var bill = await WaitJsonAsync(["show", "billing", "cli-1", "--json"], b => b.GetProperty("items").GetArrayLength() == 2, "two bill entries");
        var order = (await OkAsync("show", "order", "cli-1", "--json")).Json;

        Assert.Equal(["Meat", "Strawberry"], order.GetProperty("lines").EnumerateArray().Select(l => l.GetString()));
        Assert.Equal(0, order.GetProperty("inboxSize").GetInt32()); // sequenced: no id is remembered
        Assert.Equal(1, order.GetProperty("dedupEntries").GetInt32()); // one mark, for producer 'cli'
        Assert.Equal(0, order.GetProperty("pendingOutbox").GetArrayLength());
        Assert.Equal(85m, bill.GetProperty("total").GetDecimal());
        var item = bill.GetProperty("items")[0];
        Assert.Equal("Meat", item.GetProperty("filling").GetString());
        Assert.Equal(1, item.GetProperty("lineCount").GetInt32());
        Assert.Equal(50m, item.GetProperty("price").GetDecimal());
        Assert.True(Guid.TryParse(item.GetProperty("messageId").GetString(), out _));
    }

    [Fact]
    public async Task Should_remove_an_item_and_credit_the_bill()
    {
        await OkAsync("send", "add-item", "--order", "cli-2", "--filling", "Mushrooms");
        await WaitJsonAsync(["show", "order", "cli-2", "--json"], o => o.GetProperty("lines").GetArrayLength() == 1, "the add");
        await OkAsync("send", "remove-item", "--order", "cli-2", "--filling", "Mushrooms", "--mode", "exactly-once");

        var bill = await WaitJsonAsync(["show", "billing", "cli-2", "--json"], b => b.GetProperty("items").GetArrayLength() == 2, "the removal billed");
        Assert.Equal(0m, bill.GetProperty("total").GetDecimal());
        Assert.Equal(0, (await OkAsync("show", "order", "cli-2", "--json")).Json.GetProperty("lines").GetArrayLength());
    }

    [Fact]
    public async Task Should_load_a_run_and_verify_it_from_another_process()
    {
        var load = (await OkAsync("load", "--orders", "3", "--items", "10", "--duplicates", "0.3", "--run", "cli-ok", "--json")).Json;
        Assert.Equal(30, load.GetProperty("unique").GetInt32());
        Assert.True(load.GetProperty("sent").GetInt32() >= 30);

        var verify = await _client.RunAsync("verify", "--run", "cli-ok", "--timeout", "90", "--json");

        Assert.True(verify.ExitCode == 0, verify.ToString());
        var json = verify.Json;
        Assert.Equal("cli-ok", json.GetProperty("run").GetString());
        Assert.Equal("exactly-once", json.GetProperty("mode").GetString());
        Assert.Equal(load.GetProperty("sent").GetInt32(), json.GetProperty("sent").GetInt32());
        Assert.Equal(30, json.GetProperty("unique").GetInt32());
        foreach (var count in new[] { "lost", "duplicated", "ghost", "inconsistent" })
        {
            Assert.Equal(0, json.GetProperty(count).GetInt32());
        }

        Assert.True(json.GetProperty("quiescent").GetBoolean());
        Assert.True(json.GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task Should_keep_each_orders_send_order_when_publishing_to_many_orders_at_once()
    {
        // Removes make the order of each order's commands matter, and at-least-once has no sequence
        // numbers for the receiver to restore the order with: a reordered publish would show.
        var load = (await OkAsync("load", "--orders", "6", "--items", "25", "--removes", "0.4", "--concurrency", "6", "--mode", "at-least-once", "--run", "cli-par", "--json")).Json;
        Assert.Equal(150, load.GetProperty("unique").GetInt32());

        var verify = await _client.RunAsync("verify", "--run", "cli-par", "--timeout", "90", "--json");

        Assert.True(verify.ExitCode == 0, verify.ToString());
        foreach (var count in new[] { "lost", "duplicated", "ghost", "inconsistent", "reordered" })
        {
            Assert.Equal(0, verify.Json.GetProperty(count).GetInt32());
        }
    }

    [Fact]
    public async Task Should_load_at_a_limited_rate()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var load = (await OkAsync("load", "--orders", "1", "--items", "10", "--rate", "5", "--run", "cli-rate", "--json")).Json;
        Assert.Equal(10, load.GetProperty("sent").GetInt32());
        Assert.True(load.GetProperty("seconds").GetDouble() >= 1.8, $"10 messages at 5/s took {load.GetProperty("seconds")} s");
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1.8));
    }

    [Fact]
    public async Task Should_count_and_read_the_probe_counter()
    {
        var first = (await OkAsync("probe", "increment", "cli-probe", "--json")).Json;
        var second = (await OkAsync("probe", "increment", "cli-probe", "--json")).Json;
        var read = (await OkAsync("probe", "read", "cli-probe", "--json")).Json;

        Assert.Equal(first.GetProperty("count").GetInt64() + 1, second.GetProperty("count").GetInt64());
        Assert.Equal(second.GetProperty("count").GetInt64(), read.GetProperty("count").GetInt64());
        Assert.Equal(cluster.Silo.ProcessId, read.GetProperty("pid").GetInt32());
    }

    [Fact]
    public async Task Should_fail_verification_of_an_at_least_once_run_with_faults()
    {
        await OkAsync("faults", "set", "after-commit=0.5:throw", "--json");
        try
        {
            await OkAsync("load", "--orders", "2", "--items", "10", "--mode", "at-least-once", "--run", "cli-alo");
            var verify = await _client.RunAsync("verify", "--run", "cli-alo", "--timeout", "90", "--json");

            Assert.True(verify.ExitCode == 1, verify.ToString());
            Assert.True(verify.Json.GetProperty("duplicated").GetInt32() > 0);
            Assert.False(verify.Json.GetProperty("ok").GetBoolean());
        }
        finally
        {
            await OkAsync("faults", "clear");
        }
    }

    [Fact]
    public async Task Should_set_show_and_clear_faults_for_the_whole_cluster()
    {
        var set = (await OkAsync("faults", "set", "before-commit=0.1:throw", "after-commit=0.05:crash@billing", "--json")).Json;
        Assert.True(set.GetProperty("appliedEverywhere").GetBoolean());

        var show = (await OkAsync("faults", "show", "--json")).Json;
        Assert.Equal(["before-commit=0.1:throw", "after-commit=0.05:crash@billing"], show.GetProperty("rules").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal(1, show.GetProperty("silos").GetArrayLength());

        var clear = (await OkAsync("faults", "clear", "--json")).Json;
        Assert.Equal(0, clear.GetProperty("rules").GetArrayLength());
    }

    [Fact]
    public async Task Should_redeliver_an_unacknowledged_message_until_it_is_acknowledged_and_never_dead_letter_it()
    {
        // Processed but never acknowledged (an infrastructure failure after the commit): the stream
        // redelivers it with back-off for as long as it lasts; each redelivery is a duplicate.
        await OkAsync("faults", "set", "before-ack=1:throw@order");
        try
        {
            await OkAsync("send", "add-item", "--order", "cli-dl", "--filling", "SwissCheese");
            await Eventually.WaitForAsync(
                () => cluster.Db.ScalarAsync<long>($"SELECT coalesce(max(failures), 0) FROM orleansstreammessage WHERE serviceid = '{cluster.ClusterId}'"),
                n => n >= 2, TimeSpan.FromSeconds(90), "two failed deliveries of the unacknowledged message");
            var during = (await OkAsync("dead-letters", "list", "--json")).Json;
            Assert.Equal(0, during.GetProperty("stream").GetArrayLength());
            Assert.Equal(0, during.GetProperty("sequenced").GetArrayLength());
        }
        finally
        {
            await OkAsync("faults", "clear");
        }

        await Eventually.WaitForAsync(() => cluster.Db.ScalarAsync<long>($"SELECT count(*) FROM orleansstreammessage WHERE serviceid = '{cluster.ClusterId}'"),
            n => n == 0, TimeSpan.FromSeconds(360), "the message acknowledged after the fault was cleared (back-off up to 5 min)");
        Assert.Equal(1, (await OkAsync("show", "order", "cli-dl", "--json")).Json.GetProperty("lines").GetArrayLength());
        await Eventually.WaitForAsync(() => OkAsync("show", "billing", "cli-dl", "--json"), r => r.Json.GetProperty("items").GetArrayLength() == 1, TimeSpan.FromSeconds(60), "one bill entry");
        Assert.Equal(0, (await OkAsync("dead-letters", "list", "--json")).Json.GetProperty("stream").GetArrayLength());
        var unknown = await _client.RunAsync("dead-letters", "replay", "987654321");
        Assert.Equal(2, unknown.ExitCode);
    }

    [Fact]
    public async Task Should_say_that_an_order_and_a_bill_that_never_received_anything_do_not_exist()
    {
        var order = (await OkAsync("show", "order", "never-sent-to", "--json")).Json;
        var bill = (await OkAsync("show", "billing", "never-sent-to", "--json")).Json;
        var human = await OkAsync("show", "order", "never-sent-to");
        var humanBill = await OkAsync("show", "billing", "never-sent-to");

        Assert.False(order.GetProperty("exists").GetBoolean());
        Assert.Equal(0, order.GetProperty("lines").GetArrayLength());
        Assert.False(bill.GetProperty("exists").GetBoolean());
        Assert.Equal(0, bill.GetProperty("items").GetArrayLength());
        Assert.Equal("order never-sent-to does not exist: it never received anything", human.Stdout.Trim());
        Assert.Equal("bill of never-sent-to does not exist: it never received an event", humanBill.Stdout.Trim());

        // The same order once it received a command, and its bill once the event arrived.
        await OkAsync("send", "add-item", "--order", "never-sent-to", "--filling", "Meat");
        var billed = await WaitJsonAsync(["show", "billing", "never-sent-to", "--json"], b => b.GetProperty("items").GetArrayLength() == 1, "the add billed");
        Assert.True(billed.GetProperty("exists").GetBoolean());
        Assert.True((await OkAsync("show", "order", "never-sent-to", "--json")).Json.GetProperty("exists").GetBoolean());
        Assert.StartsWith("order never-sent-to: 1 line(s)", (await OkAsync("show", "order", "never-sent-to")).Stdout.Trim());
    }

    [Fact]
    public async Task Should_refuse_an_unknown_key_in_its_environment_with_exit_2_publishing_nothing()
    {
        var before = await cluster.Db.ScalarAsync<long>("SELECT count(*) FROM exactlyonceclientmessage");

        var result = await _client.RunAsync(
            new Dictionary<string, string> { ["Streams__MaxAtempts"] = "50" }, "send", "add-item", "--order", "bad-key", "--filling", "Meat");

        Assert.True(result.ExitCode == ExitCodes.UsageOrConfiguration, result.ToString());
        Assert.Equal(
            "client: unknown configuration key 'Streams:MaxAtempts'; known keys of Streams: QueueCount, ExpiryTimeout, VisibilityTimeout, PollingPeriod, MaxEventDeliveryTime, MaxAttempts, DeadLetterRetention, StartAgents.",
            result.Stderr.Trim());
        Assert.Equal(before, await cluster.Db.ScalarAsync<long>("SELECT count(*) FROM exactlyonceclientmessage"));
    }

    [Fact]
    public async Task Should_run_the_demo_and_show_loss_duplicates_and_neither()
    {
        var demo = await _client.RunAsync("demo", "--orders", "2", "--items", "10", "--fault", "after-commit=0.5:throw", "--json");

        Assert.True(demo.ExitCode == 0, demo.ToString());
        var rows = demo.Json.GetProperty("rows").EnumerateArray().ToDictionary(r => r.GetProperty("mode").GetString()!);
        Assert.True(rows["at-most-once"].GetProperty("lost").GetInt32() > 0);
        Assert.True(rows["at-least-once"].GetProperty("duplicated").GetInt32() > 0);
        var exactly = rows["exactly-once"];
        Assert.True(exactly.GetProperty("consistent").GetBoolean());
        Assert.Equal(20, exactly.GetProperty("billEntries").GetInt32());
        Assert.Equal(20, exactly.GetProperty("orderLines").GetInt32());
        Assert.Equal(0, (await OkAsync("faults", "show", "--json")).Json.GetProperty("rules").GetArrayLength()); // faults restored
    }

    [Theory]
    [InlineData("unrecognized command or argument 'frobnicate'", "frobnicate")]
    [InlineData("unknown filling 'Pizza'", "send", "add-item", "--order", "bad", "--filling", "Pizza")]
    [InlineData("unknown filling '7'", "send", "add-item", "--order", "bad", "--filling", "7")]
    [InlineData("malformed --id 'not-a-guid'", "send", "add-item", "--order", "bad", "--filling", "Meat", "--id", "not-a-guid")]
    [InlineData("unknown mode 'twice'", "send", "remove-item", "--order", "bad", "--filling", "Meat", "--mode", "twice")]
    [InlineData("--orders must be between 1 and 100000, not -2", "load", "--orders", "-2", "--items", "3")]
    [InlineData("--orders x --items must be between 1 and 1000000", "load", "--orders", "100000", "--items", "100000")]
    [InlineData("--duplicates must be a fraction from 0 to 1", "load", "--orders", "1", "--items", "1", "--duplicates", "1.5")]
    [InlineData("unknown run 'never-loaded'", "verify", "--run", "never-loaded")]
    [InlineData("--concurrency must be between 1 and 256, not 0", "load", "--orders", "1", "--items", "1", "--concurrency", "0")]
    [InlineData("--messages must be at least --orders", "bench", "--orders", "10", "--messages", "5")]
    [InlineData("unknown mode 'fast'", "bench", "--mode", "fast")]
    [InlineData("bad fault rule: unknown fault point 'during-lunch'", "faults", "set", "during-lunch=1")]
    public async Task Should_reject_bad_input_with_one_line_and_exit_2_publishing_nothing(string expected, params string[] args)
    {
        var before = await cluster.Db.ScalarAsync<long>("SELECT count(*) FROM exactlyoncesentmessage") + await cluster.Db.ScalarAsync<long>("SELECT count(*) FROM exactlyoncerunmessage");

        var result = await _client.RunAsync(args);

        Assert.True(result.ExitCode == 2, result.ToString());
        var lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, result.ToString());
        Assert.StartsWith("client: ", lines[0]);
        Assert.Contains(expected, lines[0], StringComparison.OrdinalIgnoreCase);
        Assert.Empty(result.Stdout.Trim());
        Assert.Equal(before, await cluster.Db.ScalarAsync<long>("SELECT count(*) FROM exactlyoncesentmessage") + await cluster.Db.ScalarAsync<long>("SELECT count(*) FROM exactlyoncerunmessage"));
        Assert.Empty(await cluster.Db.QueryAsync("SELECT 1 FROM exactlyoncerun WHERE name = 'never-loaded'"));
    }

    [Fact]
    public async Task Should_say_no_cluster_is_reachable_with_exit_3()
    {
        // Nothing wrong with the command: the cluster is not there, a runtime failure (README, "Exit codes").
        await using var empty = await TestDatabase.CreateAsync("nocluster");
        var result = await new ClientProcess(empty.ConnectionString, "nobody-home").RunAsync("send", "add-item", "--order", "x", "--filling", "Meat");

        Assert.Equal(ExitCodes.RuntimeFailure, result.ExitCode);
        Assert.Contains("no active silo of cluster 'nobody-home'", result.Stderr);
        Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(0, await empty.ScalarAsync<long>("SELECT count(*) FROM orleansstreammessage"));
    }
}
