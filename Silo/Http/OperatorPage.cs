using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;
using Orleans.Runtime;

namespace ExactlyOnce.Silo.Http;

/// <summary>
/// The operator page (docs/operations.md, "Operator page"): <c>/</c> serves a static page (HTML, CSS
/// and JS embedded in the silo's assembly, nothing from the network) that polls
/// <c>/api/pipeline</c> every 2 s. That JSON is built by whichever silo the browser asks: the
/// cluster from Orleans' membership, the cluster totals of the library's meter (every Active silo's
/// <see cref="IPipelineSnapshotService"/> asked for its own figures, and added up), and the
/// stream backlog and dead letters from PostgreSQL. <c>/api/pipeline/local</c> is this silo's own
/// figures. Nothing on the page or in the JSON names the connection string.
/// </summary>
internal static class OperatorPage
{
    /// <summary>How long one silo may take to answer with its figures before the page reports it missing.</summary>
    public static readonly TimeSpan SiloTimeout = TimeSpan.FromSeconds(3);

    /// <summary>The embedded files by request path.</summary>
    private static readonly (string Path, string Resource, string ContentType)[] Assets =
    [
        ("/", "operator.html", "text/html; charset=utf-8"),
        ("/operator.js", "operator.js", "text/javascript; charset=utf-8"),
        ("/operator.css", "operator.css", "text/css; charset=utf-8"),
    ];

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Maps the page, its files and <c>/api/pipeline</c>, <c>/api/pipeline/local</c>; the footer links the dashboard when it is served.</summary>
    public static void Map(WebApplication app, IServiceProvider silo, bool linkDashboard)
    {
        foreach (var (path, resource, contentType) in Assets)
        {
            var bytes = Read(resource);
            if (resource == "operator.html" && linkDashboard)
            {
                bytes = System.Text.Encoding.UTF8.GetBytes(System.Text.Encoding.UTF8.GetString(bytes).Replace(
                    "<span id=\"dashboard-link\"></span>",
                    $"<span id=\"dashboard-link\"> · <a href=\"{HttpSettings.DashboardPath}/\">Orleans Dashboard</a> (grains, silos, live log)</span>",
                    StringComparison.Ordinal));
            }

            app.MapGet(path, () => Results.Bytes(bytes, contentType));
        }

        app.MapGet("/api/pipeline", async (HttpContext context) =>
        {
            context.Response.Headers.CacheControl = "no-store";
            var view = await BuildAsync(silo, context.RequestAborted);
            return Results.Json(view, Json);
        });
        app.MapGet("/api/pipeline/local", (HttpContext context) =>
        {
            context.Response.Headers.CacheControl = "no-store";
            var local = silo.GetRequiredService<ILocalSiloDetails>().SiloAddress;
            return Results.Json(silo.GetRequiredService<PipelineMeterReader>().Snapshot(local.ToString()), Json);
        });
    }

    private static byte[] Read(string name)
    {
        var assembly = typeof(OperatorPage).Assembly;
        using var stream = assembly.GetManifestResourceStream($"ExactlyOnce.Silo.Http.wwwroot.{name}")
            ?? throw new InvalidOperationException($"the operator page's file {name} is not embedded in {assembly.GetName().Name}");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>The whole view: cluster, pipeline totals, backlog, dead letters, and when it was taken.</summary>
    public static async Task<PipelineView> BuildAsync(IServiceProvider silo, CancellationToken ct)
    {
        var takenAt = DateTime.UtcNow;
        var local = silo.GetRequiredService<ILocalSiloDetails>().SiloAddress;
        var serviceId = silo.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId;
        var database = silo.GetRequiredService<OperatorPageDatabase>();
        var backlog = database.BacklogAsync(serviceId, ct);
        var deadLetters = database.DeadLettersAsync(serviceId, ct);

        List<SiloView> silos;
        string? membershipError = null;
        MembershipEntry[] hosts = [];
        try
        {
            hosts = await silo.GetRequiredService<IGrainFactory>().GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: false).WaitAsync(SiloTimeout, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            membershipError = $"membership could not be read: {ex.GetType().Name}";
        }

        var active = hosts.Where(h => h.Status == SiloStatus.Active).Select(h => h.SiloAddress).ToList();
        var client = silo.GetRequiredService<PipelineSnapshotClient>();
        var answers = await Task.WhenAll(active.Select(async address =>
        {
            try
            {
                return (address, Snapshot: await client.On(address).Snapshot().WaitAsync(SiloTimeout, ct), Error: (string?)null);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                return (address, Snapshot: (SiloPipelineSnapshot?)null, Error: $"{ex.GetType().Name}");
            }
        }));

        var byAddress = answers.ToDictionary(a => a.address, a => a);
        silos = [.. hosts
            .OrderBy(h => h.Status == SiloStatus.Active ? 0 : h.Status == SiloStatus.Dead ? 2 : 1)
            .ThenByDescending(h => h.StartTime)
            .Take(20)
            .Select(h => new SiloView(
                h.SiloAddress.ToString(), h.SiloName, h.HostName, h.Status.ToString(), h.StartTime, h.IAmAliveTime, h.SiloAddress.Equals(local),
                byAddress.TryGetValue(h.SiloAddress, out var a) ? a.Snapshot is null ? $"no answer: {a.Error}" : "answered" : h.Status == SiloStatus.Active ? "not asked" : "not counted",
                byAddress.TryGetValue(h.SiloAddress, out var b) && b.Snapshot is not null ? b.Snapshot.Components.Sum(c => c.Applied) : null))];

        var snapshots = answers.Where(a => a.Snapshot is not null).Select(a => a.Snapshot!).ToList();
        return new PipelineView(
            takenAt,
            local.ToString(),
            new CoverageView(hosts.Length == 0 && membershipError is not null ? 0 : active.Count, snapshots.Count, membershipError),
            silos,
            Aggregate(snapshots),
            snapshots.Count == 0 ? 0 : snapshots.Max(s => s.OutboxOldestAgeSeconds),
            snapshots.Any(s => s.LatencyMeasured),
            await backlog,
            await deadLetters);
    }

    /// <summary>Cluster totals per component: sums of the silos' figures, percentiles of their added-up latency buckets.</summary>
    internal static List<ComponentView> Aggregate(IReadOnlyList<SiloPipelineSnapshot> snapshots) =>
        [.. snapshots.SelectMany(s => s.Components).GroupBy(c => c.Component, StringComparer.Ordinal).OrderBy(g => g.Key == "order" ? 0 : g.Key == "billing" ? 1 : 2).ThenBy(g => g.Key, StringComparer.Ordinal).Select(g =>
        {
            var buckets = new long[PipelineMeterReader.LatencyBounds.Length + 1];
            foreach (var c in g)
            {
                for (var i = 0; i < Math.Min(buckets.Length, c.LatencyBuckets.Count); i++)
                {
                    buckets[i] += c.LatencyBuckets[i];
                }
            }

            var max = g.Max(c => c.LatencyMax);
            var received = g.SelectMany(c => c.Received).GroupBy(r => r.Key, StringComparer.Ordinal).ToDictionary(r => r.Key, r => r.Sum(x => x.Value), StringComparer.Ordinal);
            var count = buckets.Sum();
            return new ComponentView(
                g.Key,
                g.Sum(c => c.Applied),
                Math.Round(g.Sum(c => c.AppliedPerSecond), 1),
                received,
                g.Sum(c => c.Retried),
                g.Sum(c => c.DeadLettered),
                g.Sum(c => c.Discarded),
                g.Sum(c => c.OutboxDepth),
                g.Sum(c => c.HeldDepth),
                g.Sum(c => c.BlockedProducers),
                count == 0 ? null : new LatencyView(count, Percentile(buckets, count, 0.50, max), Percentile(buckets, count, 0.95, max), Percentile(buckets, count, 0.99, max), max));
        })];

    /// <summary>The value at quantile <paramref name="q"/>, interpolated linearly inside its bucket (as Prometheus' histogram_quantile), never above the largest value seen.</summary>
    internal static double Percentile(long[] buckets, long count, double q, double max)
    {
        var bounds = PipelineMeterReader.LatencyBounds;
        var rank = q * count;
        long below = 0;
        for (var i = 0; i < buckets.Length; i++)
        {
            if (buckets[i] > 0 && below + buckets[i] >= rank)
            {
                var lower = i == 0 ? 0 : bounds[i - 1];
                var upper = i < bounds.Length ? bounds[i] : max;
                var value = lower + ((upper - lower) * (rank - below) / buckets[i]);
                return Math.Min(value, max);
            }

            below += buckets[i];
        }

        return max;
    }
}

/// <summary>Reads the stream backlog and the dead letters of this service from PostgreSQL (its own pool, a few connections).</summary>
internal sealed class OperatorPageDatabase(string connectionString) : IAsyncDisposable
{
    /// <summary>How many of the latest dead letters the page lists.</summary>
    public const int Latest = 10;

    private readonly NpgsqlDataSource _source = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString)
    {
        MaxPoolSize = 3,
        Timeout = 3,
        CommandTimeout = 3,
    });

    /// <summary>Rows waiting in <c>OrleansStreamMessage</c> per provider and queue (in flight: claimed by a silo right now).</summary>
    public async Task<BacklogView> BacklogAsync(string serviceId, CancellationToken ct)
    {
        try
        {
            await using var command = _source.CreateCommand("""
                SELECT ProviderId, QueueId, count(*), count(*) FILTER (WHERE ClaimedBy IS NOT NULL),
                       extract(epoch FROM now() - min(CreatedOn))::float8
                FROM OrleansStreamMessage WHERE ServiceId = @service
                GROUP BY ProviderId, QueueId ORDER BY ProviderId, QueueId
                """);
            command.Parameters.AddWithValue("service", serviceId);
            var queues = new List<QueueView>();
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                queues.Add(new QueueView(reader.GetString(0), reader.GetString(1), reader.GetInt64(2), reader.GetInt64(3), Math.Round(reader.GetDouble(4), 1)));
            }

            return new BacklogView(queues.Sum(q => q.Rows), queues, null);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or IOException)
        {
            return new BacklogView(null, [], $"PostgreSQL: {ex.GetType().Name}");
        }
    }

    /// <summary>Counts of the three kinds <c>dead-letters list</c> shows and the latest ones of all kinds.</summary>
    public async Task<DeadLettersView> DeadLettersAsync(string serviceId, CancellationToken ct)
    {
        try
        {
            await using var command = _source.CreateCommand($"""
                SELECT (SELECT count(*) FROM ExactlyOnceDeadLetter WHERE ServiceId = @service),
                       (SELECT count(*) FROM ExactlyOnceDeadLetter WHERE ServiceId = @service AND ReplayedOn IS NULL AND DiscardedOn IS NULL),
                       (SELECT count(*) FROM OrleansStreamDeadLetter WHERE ServiceId = @service),
                       (SELECT count(*) FROM ExactlyOnceRejectedMessage WHERE ServiceId = @service);
                SELECT kind, component, reason, at FROM (
                    (SELECT 'sequenced' AS kind, Component AS component, Reason AS reason, DeadOn AS at
                     FROM ExactlyOnceDeadLetter WHERE ServiceId = @service ORDER BY DeadOn DESC LIMIT {Latest})
                    UNION ALL
                    (SELECT 'stream', 'queue ' || QueueId, coalesce(Reason, ''), DeadOn
                     FROM OrleansStreamDeadLetter WHERE ServiceId = @service ORDER BY DeadOn DESC LIMIT {Latest})
                    UNION ALL
                    (SELECT 'rejected', Component, Reason, RejectedOn
                     FROM ExactlyOnceRejectedMessage WHERE ServiceId = @service ORDER BY RejectedOn DESC LIMIT {Latest})
                ) latest ORDER BY at DESC LIMIT {Latest}
                """);
            command.Parameters.AddWithValue("service", serviceId);
            await using var reader = await command.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            var (sequenced, waiting, stream, rejected) = (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3));
            await reader.NextResultAsync(ct);
            var latest = new List<DeadLetterView>();
            while (await reader.ReadAsync(ct))
            {
                latest.Add(new DeadLetterView(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetDateTime(3)));
            }

            return new DeadLettersView(sequenced + stream + rejected, sequenced, waiting, stream, rejected, latest, null);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or IOException)
        {
            return new DeadLettersView(null, null, null, null, null, [], $"PostgreSQL: {ex.GetType().Name}");
        }
    }

    public ValueTask DisposeAsync() => _source.DisposeAsync();
}

/// <summary>The body of <c>/api/pipeline</c>.</summary>
/// <param name="TakenAt">When this silo began to build the view (UTC).</param>
/// <param name="ServedBy">The silo that built it.</param>
/// <param name="Coverage">How many Active silos answered with their figures.</param>
/// <param name="Silos">The membership table: Active silos first, then others (newest first), at most 20.</param>
/// <param name="Components">Cluster totals per component, over the silos that answered.</param>
/// <param name="OutboxOldestAgeSeconds">The oldest outbox not emptied since it filled, over the silos that answered.</param>
/// <param name="LatencyMeasured">Whether any silo has the histogram <c>exactlyonce.message.latency</c>.</param>
/// <param name="Backlog">Rows waiting in the stream table.</param>
/// <param name="DeadLetters">Dead letters in PostgreSQL.</param>
internal sealed record PipelineView(
    DateTime TakenAt, string ServedBy, CoverageView Coverage, IReadOnlyList<SiloView> Silos, IReadOnlyList<ComponentView> Components,
    double OutboxOldestAgeSeconds, bool LatencyMeasured, BacklogView Backlog, DeadLettersView DeadLetters);

/// <summary>Active silos in membership and how many of them answered; an error when membership could not be read.</summary>
internal sealed record CoverageView(int Active, int Answered, string? Error);

/// <summary>One membership row and whether its figures are in the totals (<see cref="Figures"/>).</summary>
internal sealed record SiloView(string Address, string Name, string Host, string Status, DateTime Since, DateTime LastAlive, bool ServedThisPage, string Figures, long? Applied);

/// <summary>A component's cluster totals.</summary>
internal sealed record ComponentView(
    string Component, long Applied, double AppliedPerSecond, IReadOnlyDictionary<string, long> Received, long Retried, long DeadLettered, long Discarded,
    long OutboxDepth, long HeldDepth, long BlockedProducers, LatencyView? Latency);

/// <summary>Percentiles (s) of <c>exactlyonce.message.latency</c> since the silos started.</summary>
internal sealed record LatencyView(long Count, double P50, double P95, double P99, double Max);

/// <summary>The stream table's rows waiting; <see cref="Total"/> null with <see cref="Error"/> when PostgreSQL did not answer.</summary>
internal sealed record BacklogView(long? Total, IReadOnlyList<QueueView> Queues, string? Error);

/// <summary>One queue's rows, those claimed by a silo, and the age of its oldest row (s).</summary>
internal sealed record QueueView(string Provider, string Queue, long Rows, long InFlight, double OldestAgeSeconds);

/// <summary>Dead letters by kind (as <c>dead-letters list</c>) and the latest ones.</summary>
internal sealed record DeadLettersView(long? Total, long? Sequenced, long? SequencedWaiting, long? Stream, long? Rejected, IReadOnlyList<DeadLetterView> Latest, string? Error);

/// <summary>One dead letter: its kind (sequenced, stream, rejected), component (or queue), reason and time.</summary>
internal sealed record DeadLetterView(string Kind, string Component, string Reason, DateTime At);
