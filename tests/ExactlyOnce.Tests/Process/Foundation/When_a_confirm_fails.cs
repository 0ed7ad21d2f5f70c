using Npgsql;

namespace ExactlyOnce.Tests.Foundation;

/// <summary>
/// The pulling agent confirms a delivered batch once and only logs a failure. A confirm lost to a
/// database outage left the rows claimed and their lease renewed for up to 20 visibility timeouts
/// when no later confirm of the same queue came (the tail of a run). The silo now retries a failed
/// confirm for up to one visibility timeout. PostgreSQL refuses every confirm here (the confirm
/// function is swapped for one that raises) while a silo process on the default settings consumes
/// a few messages; once confirms work again the rows go within seconds, with nothing new sent.
/// </summary>
[Trait("Category", "Integration")]
[Trait("Kind", "Process")]
public sealed class When_a_confirm_fails : IAsyncLifetime
{
    private const string Signature = "orleans_stream_confirm(text, text, text, text)";
    private TestDatabase _db = null!;
    private SiloProcess _silo = null!;
    private ClientProcess _client = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync("confirm");
        var cluster = $"confirm-{Guid.NewGuid():N}"[..14];
        _silo = SiloProcess.Start(_db.ConnectionString, cluster);
        await _silo.WaitStartedAsync(TimeSpan.FromSeconds(60));
        _client = new ClientProcess(_db.ConnectionString, cluster);
    }

    public async Task DisposeAsync()
    {
        await _silo.DisposeAsync();
        await _db.DisposeAsync();
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_db.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private Task RefuseConfirmsAsync() => ExecuteAsync($"""
        ALTER FUNCTION {Signature} RENAME TO orleans_stream_confirm_working;
        CREATE FUNCTION {Signature.Replace("text, text, text, text", "a text, b text, c text, d text")}
        RETURNS TABLE (o_service_id text, o_provider_id text, o_queue_id text, o_message_id bigint)
        LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'confirms refused by the test'; END $$;
        """);

    private Task AcceptConfirmsAsync() => ExecuteAsync($"""
        DROP FUNCTION {Signature};
        ALTER FUNCTION orleans_stream_confirm_working(text, text, text, text) RENAME TO orleans_stream_confirm;
        """);

    private Task<long> StreamRowsAsync() => _db.ScalarAsync<long>("SELECT count(*) FROM OrleansStreamMessage");

    [Fact]
    public async Task Should_confirm_the_rows_within_seconds_once_the_database_takes_confirms_again()
    {
        await RefuseConfirmsAsync();
        foreach (var filling in new[] { "Meat", "Mushrooms", "Strawberry" })
        {
            await _client.OkJsonAsync("send", "add-item", "--order", "confirm-1", "--filling", filling);
        }

        // Applied by both components, but every confirm of their rows fails and is retried.
        await Eventually.WaitForAsync(() => _client.OkJsonAsync("show", "billing", "confirm-1"), b => b.GetProperty("items").GetArrayLength() == 3, TimeSpan.FromSeconds(60), "three bill entries");
        await Eventually.WaitForAsync(() => Task.FromResult(_silo.Output), o => o.Contains("; attempt 3, trying again", StringComparison.Ordinal), TimeSpan.FromSeconds(30), "a confirm retried twice");
        Assert.Equal(6, await StreamRowsAsync());

        await AcceptConfirmsAsync();
        await Eventually.WaitForAsync(StreamRowsAsync, n => n == 0, TimeSpan.FromSeconds(20), "the rows confirmed");
        Assert.Matches(@"confirmed \d+ message\(s\) of queue \S+ at attempt \d+", _silo.Output);
        Assert.DoesNotContain("gave up confirming", _silo.Output);
    }
}
