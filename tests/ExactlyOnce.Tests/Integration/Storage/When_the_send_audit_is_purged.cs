using ExactlyOnce.Silo.Messaging;
using Npgsql;

namespace ExactlyOnce.Tests.Storage;

/// <summary>The send audit stays bounded: rows past the retention go, oldest first, per service.</summary>
[Trait("Category", "Integration")]
[Trait("Kind", "Integration")]
public sealed class When_the_send_audit_is_purged
{
    [Fact]
    public async Task Should_delete_only_this_services_rows_older_than_the_retention_in_batches()
    {
        await using var db = await TestDatabase.CreateAsync("sentpurge");
        await using var source = NpgsqlDataSource.Create(db.ConnectionString);
        foreach (var (service, age, count) in new[] { ("a", "8 days", 3), ("b", "8 days", 2), ("a", "1 hour", 2) })
        {
            await db.ScalarAsync<long>($"""
                WITH ins AS (
                    INSERT INTO ExactlyOnceSentMessage (ServiceId, Component, MessageId, StreamNamespace, StreamKey, MessageType, Payload, SentOn)
                    SELECT '{service}', 'order', gen_random_uuid(), 'billing', 'o-1', 'ItemAdded', 'null', now() - interval '{age}'
                      FROM generate_series(1, {count})
                    RETURNING 1)
                SELECT count(*) FROM ins
                """);
        }

        var log = new PostgresSentMessageLog(source, "a");

        Assert.Equal(2, await log.PurgeAsync(TimeSpan.FromDays(7), batch: 2, CancellationToken.None));
        Assert.Equal(1, await log.PurgeAsync(TimeSpan.FromDays(7), batch: 2, CancellationToken.None));
        Assert.Equal(0, await log.PurgeAsync(TimeSpan.FromDays(7), batch: 2, CancellationToken.None));

        Assert.Equal(2, await db.ScalarAsync<long>("SELECT count(*) FROM ExactlyOnceSentMessage WHERE ServiceId = 'a' AND SentOn > now() - interval '2 hours'"));
        Assert.Equal(0, await db.ScalarAsync<long>("SELECT count(*) FROM ExactlyOnceSentMessage WHERE ServiceId = 'a' AND SentOn < now() - interval '7 days'"));
        Assert.Equal(2, await db.ScalarAsync<long>("SELECT count(*) FROM ExactlyOnceSentMessage WHERE ServiceId = 'b'"));
    }
}
