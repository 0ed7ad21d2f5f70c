using Npgsql;

namespace ExactlyOnce.Tests.Chaos;

/// <summary>
/// <c>chaos --restart-db</c> crashes PostgreSQL. A server that acknowledges commits before writing
/// them (synchronous_commit off) loses the last ones in that crash, which a run would count as
/// messages lost by the protocol: the run is refused before any silo starts.
/// </summary>
[Trait("Kind", "Process")]
public sealed class When_the_database_may_lose_commits
{
    [Fact]
    public async Task Should_refuse_a_database_restart_in_one_line_while_synchronous_commit_is_off()
    {
        await using var db = await TestDatabase.CreateAsync("asynccommit");
        await using (var connection = new NpgsqlConnection(TestDatabase.ServerConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"ALTER DATABASE \"{db.Name}\" SET synchronous_commit = off", connection);
            await command.ExecuteNonQueryAsync();
        }

        var run = $"async-{Guid.NewGuid():N}"[..14];
        var result = await new ClientProcess(db.ConnectionString, run).RunAsync(
            "chaos", "--silos", "2", "--orders", "1", "--items", "1", "--kills", "1", "--restart-db",
            "--base-port", $"{20000 + Random.Shared.Next(0, 5000) * 2}", "--run", run);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Equal(
            "client: --restart-db crashes PostgreSQL, which loses acknowledged commits while synchronous_commit is off: turn it on for the run (scripts/pg.sh keeps it on) or leave out --restart-db",
            result.Stderr.Trim());
        Assert.Equal(0, await db.ScalarAsync<long>("SELECT count(*) FROM OrleansMembership"));
    }
}
