using System.Text.RegularExpressions;

namespace ExactlyOnce.Tests.Foundation;

/// <summary>
/// The library's metrics as an operator scrapes them from a real silo's <c>/metrics</c>: a client
/// send, then the same message again, move the counters of both components; the latency, state
/// size and stream backlog instruments are there.
/// </summary>
[Trait("Category", "Integration")]
[Trait("Kind", "Process")]
public sealed partial class When_the_pipeline_is_measured : IDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };

    public void Dispose() => _http.Dispose();

    [Fact]
    public async Task Should_count_an_applied_message_and_its_duplicate_in_both_components()
    {
        await using var db = await TestDatabase.CreateAsync("measured");
        var clusterId = $"met-{Guid.NewGuid():N}"[..12];
        await using var silo = SiloProcess.Start(db.ConnectionString, clusterId);
        await silo.WaitStartedAsync(TimeSpan.FromSeconds(60));
        var client = new ClientProcess(db.ConnectionString, clusterId);

        var sent = await client.OkJsonAsync("send", "add-item", "--order", "m1", "--filling", "Meat");
        await client.OkJsonAsync("send", "add-item", "--order", "m1", "--filling", "Meat", "--id", sent.GetProperty("messageId").GetString()!);

        var text = await Eventually.WaitForAsync(
            () => _http.GetStringAsync(new Uri(silo.HttpBase, "/metrics")),
            t => Value(t, "exactlyonce_messages_received_total", "component=\"order\"", "outcome=\"duplicate\"") >= 1
                 && Value(t, "exactlyonce_messages_applied_total", "component=\"billing\"") >= 1
                 && t.Contains("exactlyonce_stream_backlog{", StringComparison.Ordinal), // counted in the background after the first scrape
            TimeSpan.FromSeconds(60), "the duplicate counted by order, the event applied by billing, the backlog counted");

        Assert.Equal(1, Value(text, "exactlyonce_messages_applied_total", "component=\"order\"", "mode=\"exactly_once\""));
        Assert.Equal(1, Value(text, "exactlyonce_messages_applied_total", "component=\"billing\"", "mode=\"exactly_once\""));
        Assert.Equal(1, Value(text, "exactlyonce_messages_received_total", "component=\"order\"", "outcome=\"applied\""));
        Assert.Equal(1, Value(text, "exactlyonce_messages_received_total", "component=\"order\"", "outcome=\"duplicate\""));
        Assert.Equal(0, Value(text, "exactlyonce_outbox_depth", "component=\"order\""));
        Assert.Equal(1, Value(text, "exactlyonce_message_latency_seconds_count", "component=\"billing\""));
        Assert.True(Value(text, "exactlyonce_state_write_size_bytes_count") >= 2, "state writes measured");
        // Every queue of the provider (8 by default), drained: 0 rows each.
        Assert.Equal(8, Sample().Matches(text).Count(m => m.Groups["name"].Value == "exactlyonce_stream_backlog" && m.Groups["labels"].Value.Contains("queue=\"durable-", StringComparison.Ordinal)));
        Assert.Equal(0, Value(text, "exactlyonce_stream_backlog"));
    }

    /// <summary>The sum of the samples of a metric whose labels contain every one of <paramref name="labels"/>.</summary>
    private static double Value(string exposition, string metric, params string[] labels) =>
        Sample().Matches(exposition)
            .Where(m => m.Groups["name"].Value == metric && labels.All(l => m.Groups["labels"].Value.Contains(l, StringComparison.Ordinal)))
            .Sum(m => double.Parse(m.Groups["value"].Value, System.Globalization.CultureInfo.InvariantCulture));

    [GeneratedRegex(@"^(?<name>[a-z_]+)(\{(?<labels>[^}]*)\})? (?<value>[0-9.eE+-]+)", RegexOptions.Multiline)]
    private static partial Regex Sample();
}
