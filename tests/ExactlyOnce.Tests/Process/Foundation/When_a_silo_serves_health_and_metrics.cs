using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Xunit.Abstractions;

namespace ExactlyOnce.Tests.Foundation;

/// <summary>
/// The silo's HTTP endpoint on a real silo process: <c>/health/ready</c> (membership Active,
/// PostgreSQL answering, stream pulling agents running), <c>/health/live</c>, <c>/metrics</c>
/// (Prometheus text with Orleans' meters), the <c>health</c> verb's exit codes (0 ready, 1 not
/// ready, 3 unreachable), and a clash on the HTTP port. PostgreSQL is cut with a <see cref="TcpProxy"/>.
/// </summary>
[Trait("Category", "Integration")]
[Trait("Kind", "Process")]
public sealed class When_a_silo_serves_health_and_metrics(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };

    [Fact]
    public async Task Should_be_ready_with_every_check_healthy_and_serve_orleans_metrics_once_started()
    {
        await using var db = await TestDatabase.CreateAsync("http_ready");
        await using var silo = StartSilo(db.ConnectionString);
        await silo.WaitStartedAsync(StartTimeout);

        Assert.Contains($" http http://127.0.0.1:{silo.HttpPort}", StartedLine(silo));
        Assert.DoesNotContain("dashboard", StartedLine(silo));
        // By default no Orleans Dashboard (Http:Dashboard false), no link to it; the operator page is there.
        using (var dashboard = await _http.GetAsync(new Uri(silo.HttpBase, "/dashboard/")))
        {
            Assert.Equal(HttpStatusCode.NotFound, dashboard.StatusCode);
        }

        Assert.Contains("<span id=\"dashboard-link\"></span>", await _http.GetStringAsync(silo.HttpBase));
        var (status, ready) = await GetHealthAsync(silo, "/health/ready");
        Assert.True(status == HttpStatusCode.OK, $"ready answered {status}: {ready.Raw}");
        Assert.Equal("Healthy", ready.Status);
        Assert.Equal(["database", "membership", "streams"], ready.Checks.Keys.Order());
        Assert.All(ready.Checks.Values, check => Assert.Equal("Healthy", check.Status));
        Assert.Contains($"127.0.0.1:{silo.SiloPort}", ready.Checks["membership"].Description);
        Assert.Contains("8 pulling agent(s) running", ready.Checks["streams"].Description);

        var (liveStatus, live) = await GetHealthAsync(silo, "/health/live");
        Assert.Equal(HttpStatusCode.OK, liveStatus);
        Assert.Equal("Healthy", live.Status);

        using var metrics = await _http.GetAsync(new Uri(silo.HttpBase, "/metrics"));
        var text = await metrics.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        Assert.StartsWith("text/plain", metrics.Content.Headers.ContentType?.ToString());
        // Orleans' own gauge of this silo's pulling agents, one per queue (Streams:QueueCount 8).
        Assert.Contains("orleans_streams_persistent_stream_pulling_agents{otel_scope_name=\"Microsoft.Orleans\",name=\"durable\"} 8", text);

        var verb = await RunSiloAsync("health", "--http-port", $"{silo.HttpPort}");
        Assert.True(verb.Code == 0, $"health exited {verb.Code}: {verb.Stderr}");
    }

    [Fact]
    public async Task Should_turn_unready_naming_the_database_when_postgres_is_cut_while_live_stays_healthy()
    {
        await using var db = await TestDatabase.CreateAsync("http_cut");
        var (proxy, connectionString) = TcpProxy.ForPostgres(db.ConnectionString);
        await using var _ = proxy;
        await using var silo = StartSilo(connectionString);
        await silo.WaitStartedAsync(StartTimeout);
        Assert.Equal(HttpStatusCode.OK, (await GetHealthAsync(silo, "/health/ready")).Status);

        proxy.Cut();
        var (status, ready) = await Eventually.WaitForAsync(
            () => GetHealthAsync(silo, "/health/ready"), r => r.Status != HttpStatusCode.OK, TimeSpan.FromSeconds(15), "ready to fail with the database cut");
        output.WriteLine(ready.Raw);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("Unhealthy", ready.Status);
        Assert.Equal("Unhealthy", ready.Checks["database"].Status);
        // The reason the silo gives at startup too, naming where (never the connection string).
        Assert.Matches($"^(Cannot reach PostgreSQL at 127.0.0.1:{proxy.Port}: |PostgreSQL did not answer SELECT 1 within 3 s$)", ready.Checks["database"].Description);
        Assert.Equal("Healthy", ready.Checks["membership"].Status);
        Assert.DoesNotContain(connectionString, ready.Raw);
        Assert.DoesNotContain("Password", ready.Raw, StringComparison.OrdinalIgnoreCase);
        var (liveStatus, live) = await GetHealthAsync(silo, "/health/live");
        Assert.Equal(HttpStatusCode.OK, liveStatus);
        Assert.Equal("Healthy", live.Status);

        var verb = await RunSiloAsync("health", "--http-port", $"{silo.HttpPort}");
        Assert.Equal(1, verb.Code);
        var line = Assert.Single(verb.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Matches($"^silo: not ready: database: (Cannot reach PostgreSQL at 127.0.0.1:{proxy.Port}: |PostgreSQL did not answer SELECT 1 within 3 s)", line);

        proxy.Restore();
        await Eventually.WaitForAsync(
            () => GetHealthAsync(silo, "/health/ready"), r => r.Status == HttpStatusCode.OK, TimeSpan.FromSeconds(15), "ready again once the database is back");
    }

    [Fact]
    public async Task Should_answer_unready_from_the_membership_check_while_starting_and_while_shutting_down()
    {
        await using var db = await TestDatabase.CreateAsync("http_phases");
        var (proxy, connectionString) = TcpProxy.ForPostgres(db.ConnectionString);
        await using var _ = proxy;
        await using var silo = StartSilo(connectionString, "--Silo:ShutdownTimeout", "00:00:10");

        // The endpoint answers before the silo joins the cluster: 503, membership not Active.
        var duringStartup = new List<(HttpStatusCode Status, Health Body)>();
        while (!StartedLine(silo).StartsWith("silo started:", StringComparison.Ordinal))
        {
            Assert.False(silo.HasExited, $"the silo exited while starting\n{silo.Output}");
            var answer = await TryGetHealthAsync(silo, "/health/ready");
            if (answer is { } a && !StartedLine(silo).StartsWith("silo started:", StringComparison.Ordinal))
            {
                duringStartup.Add(a);
            }

            await Task.Delay(50);
        }

        output.WriteLine($"{duringStartup.Count} answers while starting; first: {duringStartup.FirstOrDefault().Body?.Raw}");
        Assert.NotEmpty(duringStartup);
        var (firstStatus, first) = duringStartup[0];
        Assert.Equal(HttpStatusCode.ServiceUnavailable, firstStatus);
        Assert.Equal("Unhealthy", first.Checks["membership"].Status);
        Assert.Contains("not Active", first.Checks["membership"].Description);
        Assert.All(duringStartup.Where(a => a.Body.Checks["membership"].Status != "Healthy"), a => Assert.Equal(HttpStatusCode.ServiceUnavailable, a.Status));
        Assert.Equal(HttpStatusCode.OK, (await GetHealthAsync(silo, "/health/ready")).Status);

        // A stop that lasts (the database is cut, Orleans retries its membership row): still answering, 503.
        proxy.Cut();
        silo.Terminate();
        var (status, stopping) = await Eventually.WaitForAsync(
            () => GetHealthAsync(silo, "/health/ready"), r => r.Body.Checks["membership"].Status != "Healthy", TimeSpan.FromSeconds(5), "membership to turn unready on SIGTERM");
        output.WriteLine(stopping.Raw);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Contains("shutting down", stopping.Checks["membership"].Description);
    }

    [Fact]
    public async Task Should_not_be_ready_while_the_pulling_agents_are_stopped()
    {
        await using var db = await TestDatabase.CreateAsync("http_agents");
        await using var silo = StartSilo(db.ConnectionString, "--Streams:StartAgents", "false");
        await silo.WaitStartedAsync(StartTimeout);

        var (status, ready) = await GetHealthAsync(silo, "/health/ready");
        output.WriteLine(ready.Raw);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("Unhealthy", ready.Checks["streams"].Status);
        Assert.Contains("Streams:StartAgents false", ready.Checks["streams"].Description);
        Assert.Equal("Healthy", ready.Checks["membership"].Status);
        Assert.Equal("Healthy", ready.Checks["database"].Status);

        var verb = await RunSiloAsync("health", "--http-port", $"{silo.HttpPort}");
        Assert.Equal(1, verb.Code);
        Assert.StartsWith("silo: not ready: streams: ", verb.Stderr.Trim());
    }

    [Fact]
    public async Task Should_exit_3_from_the_health_verb_when_nothing_answers()
    {
        var port = SiloProcess.FreePort();
        var verb = await RunSiloAsync("health", "--http-port", $"{port}");

        Assert.Equal(3, verb.Code);
        var line = Assert.Single(verb.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"silo: health: http://127.0.0.1:{port}/health/ready cannot be reached", line);
    }

    [Fact]
    public async Task Should_stop_with_one_line_before_joining_when_its_http_port_is_taken()
    {
        await using var db = await TestDatabase.CreateAsync("http_clash");
        using var taken = new TcpListener(IPAddress.Any, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var siloPort = SiloProcess.FreePort();

        var run = await RunSiloAsync(
            "--connection-string", db.ConnectionString, "--cluster-id", "http-clash", "--service-id", "http-clash",
            "--silo-port", $"{siloPort}", "--gateway-port", $"{SiloProcess.FreePort()}", "--http-port", $"{port}");

        Assert.NotEqual(0, run.Code);
        var line = Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal($"silo: Http:Port {port} is in use by another process; pick another port with --http-port (0 turns the HTTP endpoint off).", line);
        Assert.DoesNotContain("   at ", run.Stdout + run.Stderr);
        Assert.DoesNotContain("silo started", run.Stdout);
        Assert.Equal(0L, await db.ScalarAsync<long>($"SELECT count(*) FROM orleansmembership WHERE port = {siloPort}"));
    }

    public void Dispose() => _http.Dispose();

    private static SiloProcess StartSilo(string connectionString, params string[] extra) =>
        SiloProcess.Start(connectionString, $"http-{Guid.NewGuid():N}"[..16], extra);

    private static string StartedLine(SiloProcess silo) =>
        silo.Output.Split('\n').FirstOrDefault(l => l.StartsWith("silo started:", StringComparison.Ordinal)) ?? "";

    private async Task<(HttpStatusCode Status, Health Body)> GetHealthAsync(SiloProcess silo, string path)
    {
        using var response = await _http.GetAsync(new Uri(silo.HttpBase, path));
        var raw = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, Health.Parse(raw));
    }

    /// <summary>Null while nothing listens yet.</summary>
    private async Task<(HttpStatusCode Status, Health Body)?> TryGetHealthAsync(SiloProcess silo, string path)
    {
        try
        {
            return await GetHealthAsync(silo, path);
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    /// <summary>Runs <c>dotnet ExactlyOnce.Silo.dll args</c> to its end (60 s at most).</summary>
    private static async Task<(int Code, string Stdout, string Stderr)> RunSiloAsync(params string[] args)
    {
        var run = await ProgramRun.SiloAsync(args);
        return (run.ExitCode, run.Stdout, run.Stderr);
    }

    /// <summary>A health report as the endpoint writes it; <see cref="Raw"/> is the body as received.</summary>
    private sealed record Health(string Status, IReadOnlyDictionary<string, (string Status, string Description)> Checks, string Raw)
    {
        public static Health Parse(string raw)
        {
            using var json = JsonDocument.Parse(raw);
            var checks = json.RootElement.GetProperty("checks").EnumerateArray().ToDictionary(
                c => c.GetProperty("name").GetString()!,
                c => (c.GetProperty("status").GetString()!, c.GetProperty("description").GetString()!));
            return new Health(json.RootElement.GetProperty("status").GetString()!, checks, raw);
        }
    }
}
