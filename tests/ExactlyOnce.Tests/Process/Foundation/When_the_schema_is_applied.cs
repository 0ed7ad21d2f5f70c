using ExactlyOnce.Hosting.Schema;
using Npgsql;

namespace ExactlyOnce.Tests.Foundation;

[Trait("Category", "Integration")]
[Trait("Kind", "Process")]
public sealed class When_the_schema_is_applied
{
    // Tables, columns, indexes, routines and the query catalog: everything the scripts create.
    private const string FingerprintSql = """
        SELECT md5(string_agg(item, E'\n' ORDER BY item)) FROM (
          SELECT 'col ' || table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '') AS item
            FROM information_schema.columns WHERE table_schema = 'public'
          UNION ALL SELECT 'idx ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
          UNION ALL SELECT 'fn ' || pg_get_functiondef(p.oid) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'
          UNION ALL SELECT 'q ' || querykey || ' ' || md5(querytext) FROM orleansquery
        ) items
        """;

    [Fact]
    public async Task Should_change_nothing_when_applied_twice()
    {
        await using var db = await TestDatabase.CreateEmptyAsync("schema");
        var migrator = SampleSchema.Migrator(db.ConnectionString);

        var first = await migrator.ApplyAsync();
        var afterFirst = await db.ScalarAsync<string>(FingerprintSql);
        var second = await migrator.ApplyAsync();

        // The scripts are idempotent on their own too: run every one of them again, ignoring the history.
        await using (var connection = new NpgsqlConnection(db.ConnectionString))
        {
            await connection.OpenAsync();
            foreach (var script in migrator.Scripts)
            {
                await using var command = new NpgsqlCommand(script.Sql, connection);
                await command.ExecuteNonQueryAsync();
            }
        }

        var afterRerun = await db.ScalarAsync<string>(FingerprintSql);

        Assert.Equal(migrator.Scripts.Select(s => s.Name), first);
        Assert.True(first.Count >= 5, "expected catalog, clustering, persistence, reminders and streaming scripts");
        Assert.Empty(second);
        Assert.Equal(afterFirst, afterRerun);
        Assert.Equal(27, await db.ScalarAsync<int>("SELECT count(*) FROM orleansquery"));
    }

    [Fact]
    public async Task Should_bring_up_three_silos_started_at_the_same_moment_on_an_empty_database()
    {
        await using var db = await TestDatabase.CreateEmptyAsync("threesilos");
        var clusterId = $"three-{Guid.NewGuid():N}"[..16];
        var silos = Enumerable.Range(0, 3).Select(_ => SiloProcess.Start(db.ConnectionString, clusterId)).ToList();
        try
        {
            await Task.WhenAll(silos.Select(s => s.WaitStartedAsync(TimeSpan.FromSeconds(60))));

            var active = await Eventually.WaitForAsync(
                () => db.ScalarAsync<int>($"SELECT count(*) FROM orleansmembership WHERE deploymentid = '{clusterId}' AND status = 3"),
                n => n == 3, TimeSpan.FromSeconds(30), "three Active rows in the membership table");
            Assert.Equal(3, active);
            Assert.Equal(SampleSchema.Migrator(db.ConnectionString).Scripts.Count, await db.ScalarAsync<int>("SELECT count(*) FROM exactlyonceschemahistory"));
        }
        finally
        {
            foreach (var silo in silos)
            {
                await silo.DisposeAsync();
            }
        }
    }
}
