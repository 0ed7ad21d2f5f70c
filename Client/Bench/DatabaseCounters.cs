using Npgsql;

namespace ExactlyOnce.Client.Bench;

/// <summary>
/// Cumulative counters of the database at one moment: commits (pg_stat_database) and rows
/// inserted, updated and deleted in user tables (pg_stat_user_tables), plus the server's CPU when
/// it runs on this machine. PostgreSQL publishes a backend's counts when it goes idle, at most once
/// a second (PostgreSQL 15), so counts read right after a run miss up to a second of its work.
/// </summary>
public sealed record DatabaseCounters(long Commits, long RowsWritten, double? CpuSeconds)
{
    /// <summary>How long to wait after a run before its counts are all published.</summary>
    public static readonly TimeSpan PublishDelay = TimeSpan.FromSeconds(2);

    public static async Task<DatabaseCounters> ReadAsync(NpgsqlDataSource database, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand("""
            SELECT pg_stat_clear_snapshot();
            SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()),
                   (SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::bigint FROM pg_stat_user_tables),
                   pg_backend_pid();
            """, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.NextResultAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var (commits, rows, backend) = (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt32(2));
        var server = ProcessCpu.PostgresProcesses(backend);
        return new DatabaseCounters(commits, rows, server is null ? null : ProcessCpu.SecondsOf(server));
    }
}
