using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace ExactlyOnce.Tests.Foundation;

/// <summary>
/// The operator page (<c>/</c> of the silo's HTTP endpoint) in headless Chromium against two real
/// silo processes on a fresh database: during a client <c>load</c> it renders the cluster (two
/// Active silos, both counted) and the pipeline; once <c>verify</c> says the run is OK it shows the
/// cluster totals that <c>verify</c> counts (applied at A = order lines, applied at B = bill entries,
/// duplicates = sent - unique) with empty outboxes, hold-back and stream backlog; after a message is
/// poisoned, its dead letter (kind, component, reason) and its blocked producer as
/// <c>dead-letters list</c> shows them. The figures are read from the DOM after the page's script ran.
/// The Orleans Dashboard it links to shows the same cluster and the run's grains.
/// </summary>
[Trait("Category", "Integration")]
[Trait("Kind", "Process")]
public sealed class When_a_silo_serves_the_operator_page(ITestOutputHelper output)
{
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(4);

    [Fact]
    public async Task Should_show_the_cluster_during_a_load_and_the_figures_of_verify_and_dead_letters_list_after_it()
    {
        HeadlessChromium.Executable(); // fails at once, with the install command, when the browser is missing
        await using var db = await TestDatabase.CreateAsync("page");
        var cluster = $"page-{Guid.NewGuid():N}"[..12];
        // Fault injection for the poison below; no delayed retries, so it is dead-lettered in seconds.
        // And the Orleans Dashboard, off by default.
        string[] args = [.. SiloProcess.FaultInjectionOn, "--Messaging:Recoverability:DelayedRetries", "0", "--Http:Dashboard", "true"];
        await using var first = SiloProcess.Start(db.ConnectionString, cluster, args);
        await using var second = SiloProcess.Start(db.ConnectionString, cluster, args);
        await Task.WhenAll(first.WaitStartedAsync(TimeSpan.FromSeconds(60)), second.WaitStartedAsync(TimeSpan.FromSeconds(60)));
        var client = new ClientProcess(db.ConnectionString, cluster);
        var page = new Uri(first.HttpBase, "/");

        // During the load (~330 publishes at 40/s): the page renders the cluster and the pipeline.
        var load = client.OkJsonAsync("load", "--orders", "4", "--items", "75", "--duplicates", "0.1", "--run", "page", "--concurrency", "4", "--rate", "40");
        await Task.Delay(TimeSpan.FromSeconds(2));
        var during = await LoadAsync(page);
        Assert.False(load.IsCompleted, "the load ended before the page was loaded; it should have been running");
        Assert.Equal("2 of 2", One(during, "coverage"));
        Assert.Equal(["Active", "Active"], All(during, "silo-status"));
        var addresses = All(during, "silo-address");
        Assert.All([first, second], silo => Assert.Single(addresses, a => a.StartsWith($"S{silo.Endpoint}:", StringComparison.Ordinal)));
        Assert.Contains(during, f => f.Name == "backlog-total" && long.TryParse(f.Text, out _));
        await load;

        var verdict = await client.OkJsonAsync("verify", "--run", "page", "--timeout", "120");
        Assert.True(verdict.GetProperty("ok").GetBoolean(), verdict.ToString());
        var after = await LoadAsync(page);
        var (sent, unique) = (verdict.GetProperty("sent").GetInt64(), verdict.GetProperty("unique").GetInt64());
        Assert.Equal("2 of 2", One(after, "coverage"));
        Assert.Equal(["order", "billing"], All(after, "component"));
        Assert.Equal(verdict.GetProperty("orderLines").GetInt64(), Number(after, "applied.order"));
        Assert.Equal(verdict.GetProperty("billEntries").GetInt64(), Number(after, "applied.billing"));
        Assert.Equal(sent - unique, Number(after, "duplicate.order"));
        Assert.Equal(Number(after, "applied.order") + Number(after, "applied.billing"), All(after, "silo-applied").Sum(long.Parse));
        Assert.All(["outbox.order", "outbox.billing", "held-now.order", "held-now.billing", "blocked.order", "blocked.billing", "backlog-total", "dead-letters-total"],
            name => Assert.Equal(0, Number(after, name)));
        AssertLatency(after, "order");
        AssertLatency(after, "billing");
        await AssertOrleansDashboardAsync(page, second, orders: 4);

        // A poisoned message: dead-lettered with its reason, the producer's next message held behind it.
        var poison = Guid.NewGuid().ToString();
        await client.OkJsonAsync("faults", "set", $"before-commit=1:poison@{poison}");
        await client.OkJsonAsync("send", "add-item", "--order", "page-poison", "--filling", "Meat", "--producer", "page", "--id", poison);
        await client.OkJsonAsync("send", "add-item", "--order", "page-poison", "--filling", "Strawberry", "--producer", "page");
        var list = await Eventually.WaitForAsync(
            () => client.OkJsonAsync("dead-letters", "list"),
            l => l.GetProperty("sequenced").GetArrayLength() == 1 && l.GetProperty("blocked").GetArrayLength() == 1,
            TimeSpan.FromSeconds(90), "the poisoned message dead-lettered and its producer blocked");
        await client.OkJsonAsync("faults", "clear");
        var letter = list.GetProperty("sequenced")[0];
        var poisoned = await LoadAsync(page);
        Assert.Equal(list.GetProperty("sequenced").GetArrayLength(), Number(poisoned, "dead-letters-sequenced"));
        Assert.Equal(list.GetProperty("stream").GetArrayLength(), Number(poisoned, "dead-letters-stream"));
        Assert.Equal(list.GetProperty("rejected").GetArrayLength(), Number(poisoned, "dead-letters-rejected"));
        Assert.Equal(1, Number(poisoned, "dead-letters-total"));
        Assert.Equal(
            ("sequenced", letter.GetProperty("component").GetString(), letter.GetProperty("reason").GetString()),
            (One(poisoned, "dead-letter-kind"), One(poisoned, "dead-letter-component"), One(poisoned, "dead-letter-reason")));
        Assert.Equal(list.GetProperty("blocked").GetArrayLength(), Number(poisoned, "blocked.order"));
        Assert.Equal(list.GetProperty("blocked")[0].GetProperty("held").GetInt32(), Number(poisoned, "held-now.order"));
        // Nothing more applied at A than the run's lines (the poison is not, the next one waits).
        Assert.Equal(verdict.GetProperty("orderLines").GetInt64(), Number(poisoned, "applied.order"));
    }

    /// <summary>
    /// Microsoft.Orleans.Dashboard beside the page (linked from its footer), asked of the other silo:
    /// the whole cluster's silos, and one activation per order of the run at A and at B.
    /// </summary>
    private async Task AssertOrleansDashboardAsync(Uri page, SiloProcess other, int orders)
    {
        Assert.Contains("<a href=\"/dashboard/\">Orleans Dashboard</a>", await HeadlessChromium.DumpDomAsync(page, Budget));
        var overview = await HeadlessChromium.DumpDomAsync(new Uri(other.HttpBase, "/dashboard/"), Budget);
        Assert.Equal("2", InfoBox(overview, "Active Silos"));
        var grains = await HeadlessChromium.DumpDomAsync(new Uri(other.HttpBase, "/dashboard/#/grains"), Budget);
        Assert.Equal(orders, Activations(grains, "ExactlyOnce.Grains.Orders.OrderGrain"));
        Assert.Equal(orders, Activations(grains, "ExactlyOnce.Grains.Billing.BillingGrain"));
    }

    /// <summary>The number of one of the dashboard's overview boxes.</summary>
    private static string InfoBox(string dom, string label)
    {
        var box = Regex.Match(dom, $"""info-box-text">{Regex.Escape(label)}</span><span class="info-box-number">([^<]*)<""");
        Assert.True(box.Success, $"the dashboard shows no '{label}' box: {Text(dom)}");
        return box.Groups[1].Value;
    }

    /// <summary>The activation count of a grain type in the dashboard's grains table.</summary>
    private static int Activations(string dom, string grainType)
    {
        var row = Regex.Match(dom, $"""<td title="{Regex.Escape(grainType)}"[^>]*>.*?</td><td>[^<]*</td><td><span class="pull-right"><strong>(\d+)</strong>""");
        Assert.True(row.Success, $"the dashboard's grains table has no {grainType}: {Text(dom)}");
        return int.Parse(row.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static string Text(string dom) =>
        Regex.Replace(Regex.Replace(dom, "<script.*?</script>|<style.*?</style>|<[^>]+>", " ", RegexOptions.Singleline), @"\s+", " ");

    private async Task<IReadOnlyList<(string Name, string Text)>> LoadAsync(Uri page)
    {
        var dom = await HeadlessChromium.DumpDomAsync(page, Budget);
        Assert.Contains("data-state=\"loaded\"", dom);
        var figures = HeadlessChromium.Figures(dom);
        output.WriteLine(string.Join(", ", figures.Select(f => $"{f.Name}={f.Text}")));
        return figures;
    }

    private static string One(IReadOnlyList<(string Name, string Text)> figures, string name) =>
        Assert.Single(figures, f => f.Name == name).Text;

    private static List<string> All(IReadOnlyList<(string Name, string Text)> figures, string name) =>
        [.. figures.Where(f => f.Name == name).Select(f => f.Text)];

    private static long Number(IReadOnlyList<(string Name, string Text)> figures, string name)
    {
        var text = One(figures, name);
        Assert.True(long.TryParse(text, out var value), $"{name} shows '{text}', not a count");
        return value;
    }

    /// <summary>
    /// p50, p95, p99 of <c>exactlyonce.message.latency</c>: durations in order (the client stamps its
    /// sends, so order measures client to A, billing A to B).
    /// </summary>
    private static void AssertLatency(IReadOnlyList<(string Name, string Text)> figures, string component)
    {
        string[] shown = [One(figures, $"p50.{component}"), One(figures, $"p95.{component}"), One(figures, $"p99.{component}")];
        var seconds = shown.Select(s => s.EndsWith(" ms", StringComparison.Ordinal) ? double.Parse(s[..^3], System.Globalization.CultureInfo.InvariantCulture) / 1000
            : s.EndsWith(" s", StringComparison.Ordinal) ? double.Parse(s[..^2], System.Globalization.CultureInfo.InvariantCulture)
            : throw new Xunit.Sdk.XunitException($"{component} latency shows '{string.Join("', '", shown)}', not durations")).ToList();
        Assert.True(seconds[0] > 0 && seconds[0] <= seconds[1] && seconds[1] <= seconds[2], $"{component} latency p50 {shown[0]}, p95 {shown[1]}, p99 {shown[2]}");
    }
}
