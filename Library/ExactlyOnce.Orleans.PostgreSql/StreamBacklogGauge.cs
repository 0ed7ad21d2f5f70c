using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;

namespace ExactlyOnce.PostgreSql;

/// <summary>
/// <c>exactlyonce.stream.backlog</c>: the rows of the durable stream table per queue (published,
/// not yet delivered and confirmed), on the meter <see cref="ExactlyOnceNames.Meter"/>. Read from
/// PostgreSQL at most every <see cref="RefreshPeriod"/>, in the background: a scrape never waits on
/// the database and sees the last count taken (none before the first).
/// </summary>
internal sealed class StreamBacklogGauge(
    string connectionString, string providerName, Func<IEnumerable<string>> allQueues, IOptions<ClusterOptions> cluster, IMeterFactory meters, TimeProvider clock, ILogger<StreamBacklogGauge> logger)
    : IHostedService, IAsyncDisposable
{
    public static readonly TimeSpan RefreshPeriod = TimeSpan.FromSeconds(5);

    private readonly NpgsqlDataSource _database = NpgsqlDataSource.Create(connectionString);
    private IReadOnlyList<(string Queue, long Rows)> _last = [];
    private DateTimeOffset _takenAt = DateTimeOffset.MinValue;
    private int _refreshing;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        meters.Create(ExactlyOnceNames.Meter).CreateObservableGauge("exactlyonce.stream.backlog", Observe, "{message}",
            "Rows of the durable stream table per queue: published, not yet delivered and confirmed (counted every few seconds).");
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public ValueTask DisposeAsync() => _database.DisposeAsync();

    private IEnumerable<Measurement<long>> Observe()
    {
        if (clock.GetUtcNow() - _takenAt >= RefreshPeriod && Interlocked.Exchange(ref _refreshing, 1) == 0)
        {
            _ = RefreshAsync();
        }

        return _last.Select(q => new Measurement<long>(q.Rows, new KeyValuePair<string, object?>("provider", providerName), new KeyValuePair<string, object?>("queue", q.Queue)));
    }

    private async Task RefreshAsync()
    {
        try
        {
            await using var command = _database.CreateCommand(
                "SELECT QueueId, count(*) FROM OrleansStreamMessage WHERE ServiceId = @service AND ProviderId = @provider GROUP BY QueueId ORDER BY QueueId");
            command.Parameters.AddWithValue("service", cluster.Value.ServiceId);
            command.Parameters.AddWithValue("provider", providerName);
            // Every queue of the provider, 0 when it has no row: an empty queue is a figure too.
            var rows = allQueues().ToDictionary(q => q, _ => 0L);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                rows[reader.GetString(0)] = reader.GetInt64(1);
            }

            _last = [.. rows.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => (r.Key, r.Value))];
            _takenAt = clock.GetUtcNow();
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            // The last count stays; the next scrape asks again.
            PostgreSqlLog.BacklogCountFailed(logger, ex.Message);
        }
        finally
        {
            Volatile.Write(ref _refreshing, 0);
        }
    }
}
