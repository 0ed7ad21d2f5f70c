using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace ExactlyOnce.PostgreSql;

/// <summary>
/// Applies the PostgreSQL schema a silo of ExactlyOnce.Orleans needs: the tables of Orleans' ADO.NET
/// providers (clustering, grain storage, reminders, streams) and the library's own tables, plus
/// any scripts of the application (<paramref name="applicationScripts"/>), all in name order.
/// Run it before the silo starts. Safe to run from several processes at once: one PostgreSQL
/// advisory lock serialises them. Each script runs in its own transaction and is recorded with
/// its checksum in <c>ExactlyOnceSchemaHistory</c>, so a script that has not changed is not run
/// again; the scripts are also idempotent on their own.
/// </summary>
/// <param name="connectionString">A PostgreSQL connection string (its user may create tables and functions).</param>
/// <param name="applicationScripts">The application's own scripts, applied in name order among the library's.</param>
/// <param name="logger">Where each applied script is logged.</param>
public sealed class SchemaMigrator(string connectionString, IEnumerable<SchemaScript>? applicationScripts = null, ILogger? logger = null)
{
    /// <summary>Advisory lock key held while migrating ("EXONCE" in ASCII).</summary>
    public const long AdvisoryLockKey = 0x45584F4E4345;

    private readonly ILogger _logger = logger ?? NullLogger.Instance;

    /// <summary>The library's scripts (Orleans' tables and its own), in name order.</summary>
    public static IReadOnlyList<SchemaScript> LibraryScripts { get; } =
        SchemaScript.FromEmbeddedResources(typeof(SchemaMigrator).Assembly, "ExactlyOnce.PostgreSql.Schema.");

    /// <summary>Every script this migrator applies, in the order it applies them.</summary>
    public IReadOnlyList<SchemaScript> Scripts { get; } = Merge(LibraryScripts, applicationScripts ?? []);

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
                PostgreSqlLog.SchemaScriptApplied(_logger, script.Name);
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

    private static List<SchemaScript> Merge(IEnumerable<SchemaScript> library, IEnumerable<SchemaScript> application)
    {
        var all = library.Concat(application).ToList();
        if (all.GroupBy(s => s.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } clash)
        {
            throw new ArgumentException($"two schema scripts are named {clash.Key}: an application script must not reuse a library script's name", nameof(application));
        }

        return [.. all.OrderBy(s => s.Name, StringComparer.Ordinal)];
    }
}

/// <summary>One schema script: its file name (the order key, and its identity in the history table), text and SHA-256.</summary>
/// <param name="Name">The script's file name, e.g. <c>06-messaging.sql</c>.</param>
/// <param name="Sql">Its text.</param>
/// <param name="Checksum">The SHA-256 of its text, in hex.</param>
public sealed record SchemaScript(string Name, string Sql, string Checksum)
{
    /// <summary>A script from its name and text.</summary>
    public static SchemaScript FromText(string name, string sql) =>
        new(name, sql, Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(sql))));

    /// <summary>The <c>.sql</c> resources of <paramref name="assembly"/> whose names start with <paramref name="resourcePrefix"/>, in name order; a script's name is its resource name without the prefix.</summary>
    public static IReadOnlyList<SchemaScript> FromEmbeddedResources(Assembly assembly, string resourcePrefix)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        return [.. assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(resourcePrefix, StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(n => FromText(n[resourcePrefix.Length..], Read(assembly, n)))];
    }

    private static string Read(Assembly assembly, string resourceName)
    {
        using var stream = assembly.GetManifestResourceStream(resourceName)
            ?? throw new InvalidOperationException($"Missing embedded schema script {resourceName}.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }
}
