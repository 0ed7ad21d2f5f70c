using System.Diagnostics;
using System.Text.Json;
using ExactlyOnce.Hosting;
using Npgsql;

namespace ExactlyOnce.Tests.Foundation;

/// <summary>
/// The silo's console logs as an operator gets them: one JSON object per line with
/// <c>Silo:LogFormat json</c>; and no password or connection string in any line or error, whether
/// the database is unreachable, refuses the login, lacks the database, or works (logging at Debug,
/// with a client command run against it).
/// </summary>
[Trait("Category", "Integration")]
[Trait("Kind", "Process")]
public sealed class When_a_silo_logs
{
    private static readonly NpgsqlConnectionStringBuilder Server = new(TestDatabase.ServerConnectionString);

    [Fact]
    public async Task Should_write_one_json_object_per_log_line_when_asked()
    {
        await using var database = await TestDatabase.CreateAsync("jsonlogs");
        await using var silo = SiloProcess.Start(database.ConnectionString, database.Name, "--log-format", "json");
        await silo.WaitStartedAsync(TimeSpan.FromSeconds(90));
        Assert.True(await silo.TerminateAsync(TimeSpan.FromSeconds(40)), silo.Output);

        var lines = silo.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => !l.StartsWith("silo started:", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(lines);
        foreach (var line in lines)
        {
            using var json = ParseOrFail(line);
            var root = json.RootElement;
            foreach (var field in new[] { "Timestamp", "EventId", "LogLevel", "Category", "Message" })
            {
                Assert.True(root.TryGetProperty(field, out _), $"no {field} in {line}");
            }

            Assert.True(DateTimeOffset.TryParse(root.GetProperty("Timestamp").GetString(), out _), line);
        }

        // The host's stop is logged at Information (Microsoft.Hosting.Lifetime).
        Assert.Contains(lines, l => l.Contains("\"Category\":\"Microsoft.Hosting.Lifetime\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Should_not_print_the_password_when_the_server_is_unreachable()
    {
        var secret = Secret();
        var cs = $"Host=127.0.0.1;Port={SiloProcess.FreePort()};Database=orleans;Username=postgres;Password={secret};Timeout=3";
        var (code, output) = await RunSiloAsync(cs);
        Assert.True(code == ExitCodes.RuntimeFailure, output);
        AssertNoSecret(output, secret, cs);
    }

    [Fact]
    public async Task Should_not_print_the_password_when_the_login_is_refused()
    {
        var secret = Secret();
        var cs = new NpgsqlConnectionStringBuilder(Server.ConnectionString) { Password = secret }.ConnectionString;
        var (code, output) = await RunSiloAsync(cs);
        Assert.True(code == ExitCodes.RuntimeFailure, output);
        AssertNoSecret(output, secret, cs);
    }

    [Fact]
    public async Task Should_not_print_the_password_of_a_working_login_when_the_database_is_missing_or_when_it_runs()
    {
        var secret = Secret();
        var role = $"leak_probe_{Guid.NewGuid():N}"[..30];
        await AdminAsync($"CREATE ROLE \"{role}\" LOGIN SUPERUSER PASSWORD '{secret}'");
        try
        {
            var missing = new NpgsqlConnectionStringBuilder(Server.ConnectionString) { Username = role, Password = secret, Database = "no_such_database_here" }.ConnectionString;
            var (code, output) = await RunSiloAsync(missing);
            Assert.True(code == ExitCodes.RuntimeFailure && output.Contains("no database", StringComparison.Ordinal), output);
            AssertNoSecret(output, secret, missing);

            await using var database = await TestDatabase.CreateAsync("secrets");
            var cs = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Username = role, Password = secret }.ConnectionString;
            var clientOutput = "";
            await using (var silo = SiloProcess.Start(cs, database.Name, "--Logging:LogLevel:Default", "Debug", "--Logging:LogLevel:Orleans", "Debug", "--Logging:LogLevel:Microsoft", "Debug"))
            {
                await silo.WaitStartedAsync(TimeSpan.FromSeconds(90));
                var client = new ClientProcess(cs, database.Name);
                var sent = await client.RunAsync("send", "add-item", "--order", "s-1", "--filling", "Meat");
                Assert.True(sent.ExitCode == 0, sent.ToString());
                var shown = await client.RunAsync("show", "order", "s-1");
                Assert.True(shown.ExitCode == 0, shown.ToString());
                var wrongCluster = await new ClientProcess(new NpgsqlConnectionStringBuilder(cs) { Port = SiloProcess.FreePort(), Timeout = 3 }.ConnectionString, database.Name).RunAsync("show", "order", "s-1");
                Assert.True(wrongCluster.ExitCode == ExitCodes.RuntimeFailure, wrongCluster.ToString());
                clientOutput = $"{sent}\n{shown}\n{wrongCluster}";
                Assert.True(await silo.TerminateAsync(TimeSpan.FromSeconds(40)), silo.Output);
                Assert.Contains("dbug:", silo.Output);   // Debug lines were written: the check below saw them
                AssertNoSecret(silo.Output, secret, cs);
            }

            AssertNoSecret(clientOutput, secret, cs);
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await AdminAsync($"DROP ROLE IF EXISTS \"{role}\"");
        }
    }

    private static string Secret() => $"Pw{Guid.NewGuid():N}";

    private static void AssertNoSecret(string output, string secret, string connectionString)
    {
        Assert.False(output.Contains(secret, StringComparison.Ordinal), $"the password appears in:\n{output}");
        Assert.False(output.Contains(connectionString, StringComparison.Ordinal), $"the connection string appears in:\n{output}");
    }

    private static JsonDocument ParseOrFail(string line)
    {
        try
        {
            return JsonDocument.Parse(line);
        }
        catch (JsonException ex)
        {
            throw new Xunit.Sdk.XunitException($"not a JSON log line: {line} ({ex.Message})");
        }
    }

    private static async Task AdminAsync(string sql)
    {
        var admin = new NpgsqlConnectionStringBuilder(Server.ConnectionString) { Database = "postgres", Pooling = false };
        await using var connection = new NpgsqlConnection(admin.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Runs a silo that is expected to exit on its own; returns its exit code and its stdout and stderr together.</summary>
    private static async Task<(int Code, string Output)> RunSiloAsync(string connectionString)
    {
        var run = await ProgramRun.SiloAsync("--connection-string", connectionString,
            "--silo-port", $"{SiloProcess.FreePort()}", "--gateway-port", $"{SiloProcess.FreePort()}", "--http-port", "0");
        return (run.ExitCode, $"{run.Stdout}\n{run.Stderr}");
    }
}
