using System.Net.Sockets;
using Npgsql;

namespace ExactlyOnce.Hosting;

/// <summary>Validates a connection string and checks that the database answers, with one-line errors.</summary>
public static class PostgresConnection
{
    /// <summary>Parses the connection string; throws <see cref="ConfigurationException"/> when it is missing or malformed.</summary>
    public static NpgsqlConnectionStringBuilder Parse(string? connectionString)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new ConfigurationException(
                $"{ClusterSettings.ConnectionStringKey} is not set (environment variable ConnectionStrings__Orleans).");
        }

        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidCastException)
        {
            throw new ConfigurationException($"{ClusterSettings.ConnectionStringKey} is malformed: {FirstLine(ex.Message)}", ex);
        }

        if (string.IsNullOrWhiteSpace(builder.Host))
        {
            throw new ConfigurationException($"{ClusterSettings.ConnectionStringKey} is malformed: it names no Host.");
        }

        return builder;
    }

    /// <summary>
    /// The connection string for the Orleans providers and our stores: pooled connections are not
    /// reset (<c>No Reset On Close</c>) unless the string says otherwise. The providers open a pooled
    /// connection per call, and the reset (<c>DISCARD ALL</c>) was half of all commits and threw
    /// away the session's cached plans, those of our PL/pgSQL functions included (docs/performance.md).
    /// Safe because nothing of ours or theirs leaves session state behind: no SET, no session
    /// advisory lock (the schema migrator, which takes one, uses the string as given), no
    /// temporary table, no LISTEN.
    /// </summary>
    public static string WithoutPoolReset(string connectionString)
    {
        // The builder's ContainsKey answers true for every keyword it knows, set or not.
        if (connectionString.Replace(" ", "", StringComparison.Ordinal).Contains("noresetonclose", StringComparison.OrdinalIgnoreCase))
        {
            return connectionString;
        }

        return new NpgsqlConnectionStringBuilder(connectionString) { NoResetOnClose = true }.ConnectionString;
    }

    /// <summary>
    /// Opens one connection and runs a trivial query. Throws <see cref="InfrastructureException"/> saying
    /// which of server, user or database is the problem (a missing or malformed string:
    /// <see cref="ConfigurationException"/>).
    /// </summary>
    public static async Task CheckReachableAsync(string connectionString, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var builder = Parse(connectionString);
        builder.Timeout = Math.Max(1, (int)Math.Ceiling(timeout.TotalSeconds));
        builder.Pooling = false;
        var where = $"{builder.Host}:{builder.Port}";
        try
        {
            await using var connection = new NpgsqlConnection(builder.ConnectionString);
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand("SELECT 1", connection);
            await command.ExecuteScalarAsync(cancellationToken);
        }
        catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.InvalidPassword or PostgresErrorCodes.InvalidAuthorizationSpecification)
        {
            throw new InfrastructureException($"PostgreSQL at {where} rejected user '{builder.Username}': {ex.MessageText}", ex);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.InvalidCatalogName)
        {
            throw new InfrastructureException($"PostgreSQL at {where} has no database '{builder.Database}'.", ex);
        }
        catch (PostgresException ex)
        {
            throw new InfrastructureException($"PostgreSQL at {where} refused the connection: {ex.SqlState} {ex.MessageText}", ex);
        }
        catch (NpgsqlException ex) when (ex.InnerException is SocketException or TimeoutException or IOException || ex is NpgsqlException { IsTransient: true })
        {
            throw new InfrastructureException($"Cannot reach PostgreSQL at {where}: {FirstLine(ex.InnerException?.Message ?? ex.Message)}", ex);
        }
        catch (NpgsqlException ex)
        {
            throw new InfrastructureException($"Cannot connect to PostgreSQL at {where} as '{builder.Username}': {FirstLine(ex.Message)}", ex);
        }
        catch (SocketException ex)
        {
            throw new InfrastructureException($"Cannot reach PostgreSQL at {where}: {FirstLine(ex.Message)}", ex);
        }
    }

    private static string FirstLine(string message)
    {
        var line = message.Split('\n', 2)[0].Trim();
        return line.Length == 0 ? "unknown error" : line;
    }
}
