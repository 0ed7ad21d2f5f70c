using ExactlyOnce.Hosting.Schema;
using Npgsql;

namespace ExactlyOnce.Tests.Infrastructure;

/// <summary>
/// A fresh PostgreSQL database for one test class, on the server named by ConnectionStrings__Orleans
/// (default: the cluster of scripts/pg.sh). Dropped on dispose.
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    private TestDatabase(string name, string connectionString, string adminConnectionString)
    {
        Name = name;
        ConnectionString = connectionString;
        _adminConnectionString = adminConnectionString;
    }

    private readonly string _adminConnectionString;

    /// <summary>Database name.</summary>
    public string Name { get; }

    /// <summary>Connection string to the new database.</summary>
    public string ConnectionString { get; }

    /// <summary>The server's connection string, as configured for the test run.</summary>
    public static string ServerConnectionString =>
        Environment.GetEnvironmentVariable("ConnectionStrings__Orleans")
        ?? "Host=127.0.0.1;Port=55432;Database=orleans;Username=postgres;Password=postgres";

    /// <summary>Creates an empty database (no schema).</summary>
    public static async Task<TestDatabase> CreateEmptyAsync(string prefix)
    {
        var server = new NpgsqlConnectionStringBuilder(ServerConnectionString);
        var name = $"t_{prefix}_{Guid.NewGuid():N}".ToLowerInvariant();
        name = name[..Math.Min(name.Length, 48)];
        var admin = new NpgsqlConnectionStringBuilder(server.ConnectionString) { Database = "postgres", Pooling = false };
        await using (var connection = new NpgsqlConnection(admin.ConnectionString))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await create.ExecuteNonQueryAsync();
        }

        var target = new NpgsqlConnectionStringBuilder(server.ConnectionString) { Database = name };
        return new TestDatabase(name, target.ConnectionString, admin.ConnectionString);
    }

    /// <summary>Creates a database and applies the project's schema to it.</summary>
    public static async Task<TestDatabase> CreateAsync(string prefix)
    {
        var database = await CreateEmptyAsync(prefix);
        await SampleSchema.Migrator(database.ConnectionString).ApplyAsync();
        return database;
    }

    /// <summary>Runs a scalar query against this database.</summary>
    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        var value = await command.ExecuteScalarAsync();
        return (T)Convert.ChangeType(value!, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Runs a query and returns every row as an array of values.</summary>
    public async Task<List<object?[]>> QueryAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<object?[]>();
        while (await reader.ReadAsync())
        {
            var row = new object?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++)
            {
                row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            }

            rows.Add(row);
        }

        return rows;
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(_adminConnectionString);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }
}
