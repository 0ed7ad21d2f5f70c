using ExactlyOnce.PostgreSql;
using ExactlyOnce.Hosting;
using Npgsql;

namespace ExactlyOnce.Tests.Foundation;

/// <summary>One database with the schema for the whole class; each test uses its own ServiceId.</summary>
public sealed class StreamRowsDatabase : IAsyncLifetime
{
    public TestDatabase Db { get; private set; } = null!;

    public async Task InitializeAsync() => Db = await TestDatabase.CreateAsync("streamrows");

    public async Task DisposeAsync() => await Db.DisposeAsync();
}

/// <summary>
/// The stream SQL (05-streaming.sql) driven the way the provider drives it: the catalog texts of
/// the streaming keys, with the provider's parameter names, on sessions whose Application Name is
/// the claimant (one per silo).
/// </summary>
[Trait("Category", "Integration")]
[Trait("Kind", "Integration")]
public sealed class When_stream_rows_are_claimed_and_abandoned(StreamRowsDatabase fixture) : IClassFixture<StreamRowsDatabase>
{
    private const string Provider = "Durable";
    private const string Queue = "durable-0";
    private const int VisibilityTimeout = 60;
    private const int EvictionInterval = 10;

    private readonly string _service = $"s-{Guid.NewGuid():N}";
    private TestDatabase Db => fixture.Db;

    [Fact]
    public async Task Should_not_count_a_redequeue_by_the_same_claimant()
    {
        await using var a = await ClaimantAsync("silo-a");
        var ids = await EnqueueAsync(3);

        for (var round = 1; round <= 5; round++)
        {
            var got = await a.DequeueAsync();
            Assert.Equal(ids, got.Select(m => m.Id));
            Assert.All(got, m => Assert.Equal(round, m.Receipt));
            await ExpireLeasesAsync();
        }

        foreach (var id in ids)
        {
            var row = await RowAsync(id);
            Assert.Equal((5, 0, "silo-a", false), (row.Dequeued, row.Abandoned, row.ClaimedBy, row.Isolated));
        }
    }

    [Fact]
    public async Task Should_not_count_a_release()
    {
        await using var a = await ClaimantAsync("silo-a");
        await using var b = await ClaimantAsync("silo-b");
        var ids = await EnqueueAsync(2);

        for (var round = 1; round <= 4; round++)
        {
            var holder = round % 2 == 1 ? a : b;
            var got = await holder.DequeueAsync();
            Assert.Equal(ids, got.Select(m => m.Id));
            var released = await holder.ConfirmAsync(got.Select(m => (m.Id, -m.Receipt)));
            Assert.Equal(ids, released.Order());
        }

        foreach (var id in ids)
        {
            var row = await RowAsync(id);
            Assert.Equal((4, 0, (string?)null, false), (row.Dequeued, row.Abandoned, row.ClaimedBy, row.Isolated));
            Assert.True(row.VisibleInSeconds <= 0, "a released row is visible at once");
        }
    }

    [Fact]
    public async Task Should_count_a_different_claimant_after_the_lease_ran_out()
    {
        await using var a = await ClaimantAsync("silo-a");
        await using var b = await ClaimantAsync("silo-b");
        var ids = await EnqueueAsync(2);

        Assert.Equal(ids, (await a.DequeueAsync()).Select(m => m.Id));
        Assert.Empty(await b.DequeueAsync()); // in flight: nobody else gets it

        await ExpireLeasesAsync();
        var got = await b.DequeueAsync();

        Assert.Equal(ids, got.Select(m => m.Id));
        foreach (var id in ids)
        {
            var row = await RowAsync(id);
            Assert.Equal((2, 1, "silo-b"), (row.Dequeued, row.Abandoned, row.ClaimedBy));
        }
    }

    [Fact]
    public async Task Should_hand_out_a_suspect_in_a_probe_of_suspects_only_and_nothing_else_of_its_queue_while_it_is_in_flight()
    {
        await using var a = await ClaimantAsync("silo-a");
        await using var b = await ClaimantAsync("silo-b");
        var suspect = (await EnqueueAsync(1))[0];
        await AbandonByTurnsAsync(suspect, a, b, abandons: 2); // in flight at a, abandoned twice
        var behind = await EnqueueAsync(2);
        await ExpireLeasesAsync();

        var got = await b.DequeueAsync(); // the third abandon makes it a suspect

        Assert.Equal([suspect], got.Select(m => m.Id));
        var row = await RowAsync(suspect);
        Assert.Equal((3, true, "silo-b"), (row.Abandoned, row.Isolated, row.ClaimedBy));
        Assert.Empty(await a.DequeueAsync());
        Assert.Empty(await b.DequeueAsync());
        Assert.Equal(0, (await RowAsync(behind[0])).Dequeued);

        Assert.Equal([suspect], await b.ConfirmAsync([(suspect, got[0].Receipt)]));
        Assert.Equal(behind, (await a.DequeueAsync()).Select(m => m.Id));
    }

    [Fact]
    public async Task Should_hand_out_the_rows_below_a_suspect_and_then_the_suspect_alone()
    {
        await using var a = await ClaimantAsync("silo-a");
        var ids = await EnqueueAsync(4);
        // The third row was abandoned three times and later released (state set directly).
        await ExecuteAsync($"UPDATE OrleansStreamMessage SET Abandoned = 3 WHERE ServiceId = '{_service}' AND MessageId = {ids[2]}");

        var below = await a.DequeueAsync();
        Assert.Equal(ids[..2], below.Select(m => m.Id));
        Assert.False((await RowAsync(ids[2])).Isolated);
        Assert.Equal(2, (await a.ConfirmAsync(below.Select(m => (m.Id, m.Receipt)))).Count);

        var alone = await a.DequeueAsync();
        Assert.Equal([ids[2]], alone.Select(m => m.Id));
        Assert.True((await RowAsync(ids[2])).Isolated);
        Assert.Empty(await a.DequeueAsync());

        await a.ConfirmAsync([(ids[2], alone[0].Receipt)]);
        Assert.Equal([ids[3]], (await a.DequeueAsync()).Select(m => m.Id));
    }

    [Fact]
    public async Task Should_corner_a_killer_in_halving_suspect_groups_and_bury_it_after_two_deaths_alone()
    {
        await using var bystander = await ClaimantAsync("silo-bystander");
        // Ten rows that were abandoned 3 times (cached on silos that died), and released since;
        // the sixth kills every silo that delivers it. Two plain rows behind them.
        var suspects = await EnqueueAsync(10);
        var behind = await EnqueueAsync(2);
        await ExecuteAsync($"UPDATE OrleansStreamMessage SET Abandoned = 3 WHERE ServiceId = '{_service}' AND MessageId <= {suspects[^1]}");
        var killer = suspects[5];

        // Each probe either contains the killer (its silo dies: the leases run out and a new silo,
        // a new claimant, picks up) or is delivered and confirmed. Nothing else is handed out meanwhile.
        var probes = new List<string>();
        var confirmed = new List<long>();
        var deaths = 0;
        var claimant = await ClaimantAsync("silo-0");
        while (await TryRowAsync(killer) is not null)
        {
            Assert.True(probes.Count < 20, $"the killer is still live after {string.Join(" ", probes)}");
            var got = await claimant.DequeueAsync();
            Assert.NotEmpty(got);
            Assert.Empty(await bystander.DequeueAsync()); // a probe holds its queue
            if (got.Any(m => m.Id == killer))
            {
                probes.Add($"{got.Count}x");
                deaths++;
                await claimant.DisposeAsync();
                await ExpireLeasesAsync();
                claimant = await ClaimantAsync($"silo-{deaths}");
            }
            else
            {
                probes.Add($"{got.Count}");
                Assert.Equal(got.Count, (await claimant.ConfirmAsync(got.Select(m => (m.Id, m.Receipt)))).Count);
                confirmed.AddRange(got.Select(m => m.Id));
            }
        }

        // 8 die; the lower 4 pass; the upper 4 die; of those 2 die; 1 passes; the killer dies alone
        // twice and is buried by the next pick, which hands out its group's last 2.
        Assert.Equal("8x 4 4x 2x 1 1x 1x 2", string.Join(" ", probes));
        Assert.Equal(5, deaths);
        Assert.Equal(suspects.Where(id => id != killer).Take(7).Order(), confirmed.Order());
        var letter = Assert.Single(await Db.QueryAsync(
            $"SELECT Reason, Abandoned, Probed, Isolated, RemoveOn = 'infinity' FROM OrleansStreamDeadLetter WHERE ServiceId = '{_service}'"));
        Assert.Equal("killed its silo: abandoned 8 times, the last 5 in suspect groups of 8, 4, 2, 1 and 1", letter[0]);
        Assert.Equal((8, 5, true, true), ((int)letter[1]!, (int)letter[2]!, (bool)letter[3]!, (bool)letter[4]!));

        // The rest: the last two suspects together, then the plain rows in one batch.
        var rest = await claimant.DequeueAsync();
        Assert.Equal(suspects[8..], rest.Select(m => m.Id));
        await claimant.ConfirmAsync(rest.Select(m => (m.Id, m.Receipt)));
        Assert.Equal(behind, (await claimant.DequeueAsync()).Select(m => m.Id));
        await claimant.DisposeAsync();
    }

    [Fact]
    public async Task Should_not_bury_a_suspect_that_its_own_claimant_reads_again()
    {
        await using var a = await ClaimantAsync("silo-a");
        var id = (await EnqueueAsync(1))[0];
        await ExecuteAsync($"UPDATE OrleansStreamMessage SET Abandoned = 3, Probed = 4, Isolated = true WHERE ServiceId = '{_service}'");

        for (var round = 0; round < 3; round++)
        {
            Assert.Equal([id], (await a.DequeueAsync()).Select(m => m.Id));
            await ExpireLeasesAsync(); // a slow cache, not a death: the same claimant reads it again
        }

        Assert.Equal((3, 4, true), ((await RowAsync(id)).Abandoned, await Db.ScalarAsync<int>($"SELECT Probed FROM OrleansStreamMessage WHERE ServiceId = '{_service}'"), (await RowAsync(id)).Isolated));
        Assert.Equal(0, await Db.ScalarAsync<long>($"SELECT count(*) FROM OrleansStreamDeadLetter WHERE ServiceId = '{_service}'"));
    }

    [Fact]
    public async Task Should_release_the_rows_whose_confirm_was_lost_when_the_same_claimant_confirms_later_ones()
    {
        await using var a = await ClaimantAsync("silo-a");
        await using var b = await ClaimantAsync("silo-b");
        var lost = await EnqueueAsync(2);
        var first = await a.DequeueAsync();                    // its confirm will be lost
        Assert.Equal(lost, first.Select(m => m.Id));
        await ExecuteAsync($"UPDATE OrleansStreamMessage SET ModifiedOn = now() - interval '10 seconds' WHERE ServiceId = '{_service}'");
        var later = await EnqueueAsync(3);
        var second = await a.DequeueAsync();
        Assert.Equal(later, second.Select(m => m.Id));

        // A confirm by another claimant says nothing about a's cache.
        await b.ConfirmAsync([(lost[0], 99)]);
        Assert.Equal("silo-a", (await RowAsync(lost[1])).ClaimedBy);

        // a confirming part of its second read releases nothing of that read...
        Assert.Equal([later[0]], await a.ConfirmAsync([(later[0], second[0].Receipt)]));
        Assert.Equal("silo-a", (await RowAsync(later[1])).ClaimedBy);

        // But the rows a claimed before the ones it confirmed have left its cache: released, visible now.
        foreach (var id in lost)
        {
            var row = await RowAsync(id);
            Assert.Equal(((string?)null, 0), (row.ClaimedBy, row.Abandoned));
            Assert.True(row.VisibleInSeconds <= 0.5, $"row {id} visible in {row.VisibleInSeconds} s");
        }

        Assert.Equal(lost, (await b.DequeueAsync()).Select(m => m.Id));
    }

    [Fact]
    public async Task Should_never_dead_letter_a_failed_row_and_back_off_up_to_five_minutes()
    {
        await using var a = await ClaimantAsync("silo-a");
        var id = (await EnqueueAsync(1))[0];

        for (var failure = 1; failure <= 20; failure++)
        {
            await ExecuteAsync($"UPDATE OrleansStreamMessage SET VisibleOn = now() - interval '1 second' WHERE ServiceId = '{_service}'");
            await ForceHousekeepingAsync();
            Assert.Equal([id], (await a.DequeueAsync(maxAttempts: 5)).Select(m => m.Id));
            await a.FailAsync(id);

            var row = await RowAsync(id);
            Assert.Equal((failure, failure, 0, (string?)null), (row.Dequeued, row.Failures, row.Abandoned, row.ClaimedBy));
            Assert.Equal(Math.Min(Math.Pow(2, failure), 300), row.BackOffSeconds);
            Assert.Empty(await a.DequeueAsync()); // backing off
        }

        Assert.Equal(0, await Db.ScalarAsync<long>($"SELECT count(*) FROM OrleansStreamDeadLetter WHERE ServiceId = '{_service}'"));
    }

    [Fact]
    public async Task Should_renew_the_leases_of_the_caller_that_are_about_to_run_out()
    {
        await using var a = await ClaimantAsync("silo-a");
        await using var b = await ClaimantAsync("silo-b");
        var ids = await EnqueueAsync(4);
        Assert.Equal(ids[..3], (await a.DequeueAsync(maxCount: 3)).Select(m => m.Id));
        Assert.Equal([ids[3]], (await b.DequeueAsync()).Select(m => m.Id));
        await SetVisibleInAsync(ids[0], 20);  // a's, within half the timeout: renewed
        await SetVisibleInAsync(ids[1], 50);  // a's, more than half left: kept
        await SetVisibleInAsync(ids[2], 20);  // a's, but claimed 21 minutes ago: not renewed
        await ExecuteAsync($"UPDATE OrleansStreamMessage SET ModifiedOn = now() - interval '21 minutes' WHERE ServiceId = '{_service}' AND MessageId = {ids[2]}");
        await SetVisibleInAsync(ids[3], 20);  // b's: not a's to renew

        await ForceHousekeepingAsync();
        Assert.Empty(await a.DequeueAsync());

        Assert.InRange((await RowAsync(ids[0])).VisibleInSeconds, 55, 60);
        Assert.InRange((await RowAsync(ids[1])).VisibleInSeconds, 45, 50);
        Assert.InRange((await RowAsync(ids[2])).VisibleInSeconds, 15, 20);
        Assert.InRange((await RowAsync(ids[3])).VisibleInSeconds, 15, 20);
        Assert.Equal(1, (await RowAsync(ids[0])).Dequeued); // the receipt is unchanged: the silo's confirm still matches
    }

    [Fact]
    public async Task Should_ignore_a_stale_receipt_and_a_stale_failure()
    {
        await using var a = await ClaimantAsync("silo-a");
        await using var b = await ClaimantAsync("silo-b");
        var id = (await EnqueueAsync(1))[0];
        var first = Assert.Single(await a.DequeueAsync());
        await ExpireLeasesAsync();
        var second = Assert.Single(await b.DequeueAsync());
        var held = await RowAsync(id);

        Assert.Empty(await a.ConfirmAsync([(id, first.Receipt)]));
        Assert.Empty(await a.ConfirmAsync([(id, -first.Receipt)]));
        await a.FailAsync(id); // b holds it: a's failure is not a's to report
        var after = await RowAsync(id);
        Assert.Equal((held.Dequeued, held.Failures, held.ClaimedBy), (after.Dequeued, after.Failures, after.ClaimedBy));
        Assert.Equal(held.VisibleInSeconds, after.VisibleInSeconds, 1.0);

        Assert.Equal([id], await b.ConfirmAsync([(id, second.Receipt)]));
        Assert.Null(await TryRowAsync(id));
    }

    [Fact]
    public async Task Should_dead_letter_expired_rows_for_good()
    {
        await using var a = await ClaimantAsync("silo-a");
        var ids = await EnqueueAsync(2);
        await ExecuteAsync($"UPDATE OrleansStreamMessage SET ExpiresOn = now() - interval '1 second' WHERE ServiceId = '{_service}' AND MessageId = {ids[0]}");

        await ForceHousekeepingAsync();
        Assert.Equal([ids[1]], (await a.DequeueAsync()).Select(m => m.Id));

        Assert.Equal("expired", await Db.ScalarAsync<string>($"SELECT Reason FROM OrleansStreamDeadLetter WHERE ServiceId = '{_service}' AND MessageId = {ids[0]}"));
        // Letters written before (with a deadline) are not purged either.
        await ExecuteAsync($"UPDATE OrleansStreamDeadLetter SET RemoveOn = now() - interval '1 day' WHERE ServiceId = '{_service}'");
        Assert.Equal(0, await a.EvictDeadLettersAsync());
        await ForceHousekeepingAsync();
        await a.DequeueAsync();
        Assert.Equal(1, await Db.ScalarAsync<long>($"SELECT count(*) FROM OrleansStreamDeadLetter WHERE ServiceId = '{_service}'"));
    }

    [Fact]
    public void Should_give_every_silo_its_own_application_name()
    {
        var plain = new NpgsqlConnectionStringBuilder(ExactlyOncePostgreSqlExtensions.WithClaimantName("Host=h;Database=d")).ApplicationName!;
        var again = new NpgsqlConnectionStringBuilder(ExactlyOncePostgreSqlExtensions.WithClaimantName("Host=h;Database=d")).ApplicationName!;
        var named = new NpgsqlConnectionStringBuilder(ExactlyOncePostgreSqlExtensions.WithClaimantName($"Host=h;Application Name={new string('x', 80)}")).ApplicationName!;

        Assert.StartsWith($"eo-silo-{Environment.ProcessId}-", plain, StringComparison.Ordinal);
        Assert.NotEqual(plain, again);
        Assert.Equal(63, named.Length);
        Assert.Matches($"^x+-{Environment.ProcessId}-[0-9a-f]{{8}}$", named);
    }

    // Makes the row (in flight at neither) go a -> b -> a ...: each pick after an expiry is an abandon.
    private async Task AbandonByTurnsAsync(long id, Claimant a, Claimant b, int abandons)
    {
        for (var i = 0; i <= abandons; i++)
        {
            if (i > 0)
            {
                await ExpireLeasesAsync();
            }

            var got = await (i % 2 == 0 ? a : b).DequeueAsync();
            Assert.Contains(id, got.Select(m => m.Id));
        }

        Assert.Equal(abandons, (await RowAsync(id)).Abandoned);
    }

    private async Task<Claimant> ClaimantAsync(string name)
    {
        var builder = new NpgsqlConnectionStringBuilder(Db.ConnectionString) { ApplicationName = name, Pooling = false };
        var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync();
        var texts = new Dictionary<string, string>();
        await using (var command = new NpgsqlCommand("SELECT QueryKey, QueryText FROM OrleansQuery WHERE QueryKey LIKE '%Stream%'", connection))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                texts[reader.GetString(0)] = reader.GetString(1);
            }
        }

        return new Claimant(connection, texts, _service);
    }

    private async Task<List<long>> EnqueueAsync(int count)
    {
        await using var producer = await ClaimantAsync("client");
        var ids = new List<long>();
        for (var i = 0; i < count; i++)
        {
            ids.Add(await producer.EnqueueAsync());
        }

        return ids;
    }

    private Task ExpireLeasesAsync() =>
        ExecuteAsync($"UPDATE OrleansStreamMessage SET VisibleOn = now() - interval '1 second' WHERE ServiceId = '{_service}' AND VisibleOn > now()");

    private Task SetVisibleInAsync(long id, int seconds) =>
        ExecuteAsync($"UPDATE OrleansStreamMessage SET VisibleOn = now() + interval '{seconds} seconds' WHERE ServiceId = '{_service}' AND MessageId = {id}");

    private Task ForceHousekeepingAsync() =>
        ExecuteAsync($"UPDATE OrleansStreamEviction SET NextEvictionOn = now() - interval '1 second' WHERE ServiceId = '{_service}'");

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(Db.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private async Task<Row> RowAsync(long id) => await TryRowAsync(id) ?? throw new InvalidOperationException($"no live row {id}");

    private async Task<Row?> TryRowAsync(long id)
    {
        var rows = await Db.QueryAsync($"""
            SELECT Dequeued, Failures, Abandoned, ClaimedBy, Isolated,
                   extract(epoch FROM VisibleOn - now())::float8, extract(epoch FROM VisibleOn - ModifiedOn)::float8
              FROM OrleansStreamMessage WHERE ServiceId = '{_service}' AND MessageId = {id}
            """);
        return rows.Count == 0
            ? null
            : new Row((int)rows[0][0]!, (int)rows[0][1]!, (int)rows[0][2]!, (string?)rows[0][3], (bool)rows[0][4]!, (double)rows[0][5]!, (double)rows[0][6]!);
    }

    private sealed record Row(int Dequeued, int Failures, int Abandoned, string? ClaimedBy, bool Isolated, double VisibleInSeconds, double BackOffSeconds);

    private sealed record Message(long Id, int Receipt);

    /// <summary>One silo's session: runs the catalog texts with the parameters the provider binds.</summary>
    private sealed class Claimant(NpgsqlConnection connection, Dictionary<string, string> texts, string service) : IAsyncDisposable
    {
        public async Task<long> EnqueueAsync()
        {
            await using var command = Command("QueueStreamMessageKey");
            command.Parameters.AddWithValue("Payload", new byte[] { 1, 2, 3 });
            command.Parameters.AddWithValue("ExpiryTimeout", 3600);
            await using var reader = await command.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            return reader.GetInt64(reader.GetOrdinal("MessageId"));
        }

        public async Task<List<Message>> DequeueAsync(int maxCount = 100, int maxAttempts = 5)
        {
            await using var command = Command("GetStreamMessagesKey");
            command.Parameters.AddWithValue("MaxCount", maxCount);
            command.Parameters.AddWithValue("MaxAttempts", maxAttempts);
            command.Parameters.AddWithValue("VisibilityTimeout", VisibilityTimeout);
            command.Parameters.AddWithValue("RemovalTimeout", 604800);
            command.Parameters.AddWithValue("EvictionInterval", EvictionInterval);
            command.Parameters.AddWithValue("EvictionBatchSize", 1000);
            var messages = new List<Message>();
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                messages.Add(new Message(reader.GetInt64(reader.GetOrdinal("MessageId")), reader.GetInt32(reader.GetOrdinal("Dequeued"))));
            }

            return messages.OrderBy(m => m.Id).ToList();
        }

        public async Task<List<long>> ConfirmAsync(IEnumerable<(long Id, int Receipt)> items)
        {
            await using var command = Command("ConfirmStreamMessagesKey");
            command.Parameters.AddWithValue("Items", string.Join('|', items.Select(i => $"{i.Id}:{i.Receipt}")));
            var ids = new List<long>();
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                ids.Add(reader.GetInt64(reader.GetOrdinal("MessageId")));
            }

            return ids;
        }

        public async Task FailAsync(long id)
        {
            await using var command = Command("FailStreamMessageKey");
            command.Parameters.AddWithValue("MessageId", id);
            command.Parameters.AddWithValue("MaxAttempts", 5);
            command.Parameters.AddWithValue("RemovalTimeout", 604800);
            await command.ExecuteNonQueryAsync();
        }

        public async Task<int> EvictDeadLettersAsync()
        {
            await using var command = Command("EvictStreamDeadLettersKey");
            command.Parameters.AddWithValue("MaxCount", 1000);
            return Convert.ToInt32(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
        }

        public ValueTask DisposeAsync() => connection.DisposeAsync();

        private NpgsqlCommand Command(string key)
        {
            var command = new NpgsqlCommand(texts[key], connection);
            command.Parameters.AddWithValue("ServiceId", service);
            command.Parameters.AddWithValue("ProviderId", Provider);
            command.Parameters.AddWithValue("QueueId", Queue);
            return command;
        }
    }
}
