namespace ExactlyOnce.Tests.Foundation;

/// <summary>
/// A silo process with <c>Telemetry:OtlpEndpoint</c> exports its metrics and traces over OTLP on the
/// exporter's default protocol (gRPC) to a collector, here <see cref="OtlpReceiver"/> in the test
/// process; a message sent through the pipeline shows up in both. The metric export interval comes
/// from the SDK's standard variable <c>OTEL_METRIC_EXPORT_INTERVAL</c> (1 s here; 60 s by default,
/// longer than the test waits).
/// </summary>
[Trait("Category", "Integration")]
[Trait("Kind", "Process")]
public sealed class When_a_silo_exports_over_otlp
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Should_send_the_applied_counter_and_the_process_span_to_the_collector()
    {
        await using var db = await TestDatabase.CreateAsync("otlp");
        await using var collector = await OtlpReceiver.StartAsync();
        var clusterId = $"otlp-{Guid.NewGuid():N}"[..12];
        using var silo = InterruptibleProgram.Start(RepoPaths.BuiltSiloDll(),
        [
            "--silo-port", $"{SiloProcess.FreePort()}", "--gateway-port", $"{SiloProcess.FreePort()}", "--http-port", $"{SiloProcess.FreePort()}",
            "--connection-string", db.ConnectionString, "--cluster-id", clusterId, "--service-id", clusterId,
            "--Telemetry:OtlpEndpoint", collector.Endpoint.ToString(),
        ],
        new Dictionary<string, string> { ["OTEL_METRIC_EXPORT_INTERVAL"] = "1000" });
        await silo.WaitForLineAsync("silo started:", TimeSpan.FromSeconds(60));

        await new ClientProcess(db.ConnectionString, clusterId).OkJsonAsync("send", "add-item", "--order", "otlp-1", "--filling", "Meat");

        var metrics = await Eventually.WaitForAsync(
            () => Task.FromResult(new Exports([.. collector.Requests.Where(r => r.Path == OtlpReceiver.MetricsPath)])),
            exports => exports.Requests.Exists(r => r.Contains("exactlyonce.messages.applied")), Wait,
            "a metrics export with exactlyonce.messages.applied");
        var traces = await Eventually.WaitForAsync(
            () => Task.FromResult(new Exports([.. collector.Requests.Where(r => r.Path == OtlpReceiver.TracesPath)])),
            exports => exports.Requests.Exists(r => r.Contains("order process")), Wait,
            "a trace export with the span 'order process'");

        // gRPC as a collector sees it: HTTP/2, application/grpc; the resource names the silo.
        Assert.All([.. metrics.Requests, .. traces.Requests], r => Assert.Equal(("HTTP/2", "application/grpc"), (r.Protocol, r.ContentType)));
        Assert.Contains(metrics.Requests, r => r.Contains("ExactlyOnce.Silo"));
        Assert.Contains(traces.Requests, r => r.Contains("ExactlyOnce.Silo"));
    }

    /// <summary>The export requests of one kind so far (counted in a timeout's message).</summary>
    private sealed record Exports(List<OtlpRequest> Requests)
    {
        public override string ToString() => $"{Requests.Count} export request(s)";
    }
}
