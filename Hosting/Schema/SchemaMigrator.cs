using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace ExactlyOnce.Hosting.Schema;

/// <summary>
/// Applies this project's PostgreSQL schema (the .sql files embedded from Hosting/Schema) in name
/// order. Safe to run from several silos at once: one PostgreSQL advisory lock serialises them.
/// Each script runs in its own transaction and is recorded with its checksum, so a script that
/// has not changed is not run again; the scripts are also idempotent on their own.
/// </summary>
public sealed class SchemaMigrator(string connectionString, ILogger? logger = null)
{
    /// <summary>Advisory lock key held while migrating ("EXONCE" in ASCII).</summary>
    public const long AdvisoryLockKey = 0x45584F4E4345;

    private const string ResourcePrefix = "ExactlyOnce.Schema.";
    private readonly ILogger _logger = logger ?? NullLogger.Instance;

    /// <summary>The embedded scripts, in the order they are applied.</summary>
    public static IReadOnlyList<SchemaScript> Scripts { get; } = LoadScripts();

    /// <summary>Applies what is missing or changed; returns the names of the scripts it ran.</summary>
    public async Task<IReadOnlyList<string>> ApplyAsync(CancellationToken cancellationToken = default)
    {
        var applied = new List<string>();
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await ExecuteAsync(connection, $"SELECT pg_advisory_lock({AdvisoryLockKey})", cancellationToken);
        try
        {
            await ExecuteAsync(connection, """
                CREATE TABLE IF NOT EXISTS ExactlyOnceSchemaHistory (
                    ScriptName text PRIMARY KEY,
                    Checksum   text NOT NULL,
                    AppliedOn  timestamptz NOT NULL DEFAULT now())
                """, cancellationToken);
            var recorded = await ReadHistoryAsync(connection, cancellationToken);
            foreach (var script in Scripts)
            {
                if (recorded.TryGetValue(script.Name, out var checksum) && checksum == script.Checksum)
                {
                    continue;
                }

                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                await ExecuteAsync(connection, script.Sql, cancellationToken);
                await using (var record = new NpgsqlCommand("""
                    INSERT INTO ExactlyOnceSchemaHistory (ScriptName, Checksum) VALUES (@name, @checksum)
                    ON CONFLICT (ScriptName) DO UPDATE SET Checksum = EXCLUDED.Checksum, AppliedOn = now()
                    """, connection))
                {
                    record.Parameters.AddWithValue("name", script.Name);
                    record.Parameters.AddWithValue("checksum", script.Checksum);
                    await record.ExecuteNonQueryAsync(cancellationToken);
                }

                await transaction.CommitAsync(cancellationToken);
                applied.Add(script.Name);
                _logger.LogInformation("Schema script {Script} applied", script.Name);
            }
        }
        finally
        {
            await ExecuteAsync(connection, $"SELECT pg_advisory_unlock({AdvisoryLockKey})", CancellationToken.None);
        }

        return applied;
    }

    private static async Task<Dictionary<string, string>> ReadHistoryAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        await using var command = new NpgsqlCommand("SELECT ScriptName, Checksum FROM ExactlyOnceSchemaHistory", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            result[reader.GetString(0)] = reader.GetString(1);
        }

        return result;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static List<SchemaScript> LoadScripts()
    {
        var assembly = typeof(SchemaMigrator).Assembly;
        return assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(n => Read(assembly, n))
            .ToList();
    }

    private static SchemaScript Read(Assembly assembly, string resourceName)
    {
        using var stream = assembly.GetManifestResourceStream(resourceName)
            ?? throw new InvalidOperationException($"Missing embedded schema script {resourceName}.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var sql = reader.ReadToEnd();
        var checksum = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(sql)));
        return new SchemaScript(resourceName[ResourcePrefix.Length..], sql, checksum);
    }
}

/// <summary>One schema script: its file name, text and SHA-256.</summary>
public sealed record SchemaScript(string Name, string Sql, string Checksum);
