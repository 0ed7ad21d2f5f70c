using System.CommandLine;
using ExactlyOnce.Grains.Messaging;
using Npgsql;
using Spectre.Console;

namespace ExactlyOnce.Client.Commands;

/// <summary>
/// <c>dead-letters list</c> and <c>dead-letters replay &lt;id&gt;|--all</c>. Two kinds: poison messages the
/// stream provider gave up on (OrleansStreamDeadLetter, replayable) and invalid messages the
/// components refused (ExactlyOnceRejectedMessage, not replayable: invalid stays invalid).
/// </summary>
public static class DeadLetterCommands
{
    public static Command Create()
    {
        var deadLetters = new Command("dead-letters", "Inspect and re-enqueue dead letters.");

        var list = new Command("list", "List stream dead letters (replayable) and rejected invalid messages.");
        list.SetSessionAction(async (_, session, ct) =>
        {
            var database = await session.DatabaseAsync(ct);
            var stream = await ReadStreamDeadLettersAsync(database, session.ServiceId, ct);
            var rejected = await ReadRejectedAsync(database, session.ServiceId, ct);
            session.Printer.Result(new { stream, rejected }, console =>
            {
                var table = new Table().Title("stream dead letters (replay with: dead-letters replay <id>)").AddColumns("id", "queue", "attempts", "dead since", "created", "payload bytes");
                foreach (var d in stream)
                {
                    table.AddRow($"{d.Id}", Markup.Escape(d.Queue), $"{d.Attempts}", $"{d.DeadOn:u}", $"{d.CreatedOn:u}", $"{d.PayloadBytes}");
                }

                console.Write(table);
                var invalid = new Table().Title("rejected invalid messages (not replayable)").AddColumns("component", "key", "message id", "type", "reason", "rejected");
                foreach (var r in rejected)
                {
                    invalid.AddRow(r.Component, Markup.Escape(r.Key), $"{r.MessageId}", r.Type, Markup.Escape(r.Reason), $"{r.RejectedOn:u}");
                }

                console.Write(invalid);
            });
            return ClientApp.ExitOk;
        });

        var id = new Argument<long?>("id") { Description = "Id of a stream dead letter (from 'dead-letters list').", Arity = ArgumentArity.ZeroOrOne };
        var all = new Option<bool>("--all") { Description = "Replay every replayable stream dead letter." };
        var replay = new Command("replay", "Put stream dead letters back on their queue. Exactly-once consumers deduplicate on the message id, so a message that was in fact processed is not applied again.")
        {
            id, all,
        };
        replay.SetSessionAction(async (parse, session, ct) =>
        {
            var (one, every) = (parse.GetValue(id), parse.GetValue(all));
            if (one is null == !every)
            {
                throw new UsageException("give either a dead-letter id or --all");
            }

            var retention = InboxPolicy.RetentionFor(session.Streams.ExpiryTimeout, session.Streams.VisibilityTimeout, session.Streams.MaxEventDeliveryTime, InboxPolicy.DefaultSafetyMargin);
            var database = await session.DatabaseAsync(ct);
            var candidates = (await ReadStreamDeadLettersAsync(database, session.ServiceId, ct)).Where(d => every || d.Id == one).ToList();
            if (one is { } wanted && candidates.Count == 0)
            {
                throw new UsageException($"no stream dead letter with id {wanted} (see 'dead-letters list'; rejected invalid messages cannot be replayed)");
            }

            var results = new List<ReplayResult>();
            foreach (var d in candidates)
            {
                string? refused = d.PayloadBytes == 0 ? "no payload kept"
                    : DateTime.UtcNow - d.CreatedOn > retention ? $"older than the inbox retention ({retention}): its id may be forgotten, a replay could apply it twice"
                    : null;
                var newId = refused is null ? await MoveBackAsync(database, session, d.Id, ct) : null;
                refused ??= newId is null ? "it is no longer in the dead-letter table" : null;
                results.Add(new ReplayResult(d.Id, newId is not null, newId, refused));
            }

            session.Printer.Result(new { replayed = results }, console =>
            {
                foreach (var r in results)
                {
                    console.WriteLine(r.Replayed ? $"dead letter {r.Id} re-enqueued as stream message {r.NewMessageId}" : $"dead letter {r.Id} not replayed: {r.Refused}");
                }

                if (results.Count == 0)
                {
                    console.WriteLine("no stream dead letters");
                }
            });
            return ClientApp.ExitOk;
        });

        deadLetters.Subcommands.Add(list);
        deadLetters.Subcommands.Add(replay);
        return deadLetters;
    }

    /// <summary>One statement: delete from the dead letters and insert into the live table, fresh attempts and expiry.</summary>
    private static async Task<long?> MoveBackAsync(NpgsqlDataSource database, ClientSession session, long id, CancellationToken ct)
    {
        await using var command = database.CreateCommand("""
            WITH moved AS (
                DELETE FROM OrleansStreamDeadLetter
                WHERE ServiceId = @service AND MessageId = @id AND Payload IS NOT NULL
                RETURNING ServiceId, ProviderId, QueueId, Payload)
            INSERT INTO OrleansStreamMessage (ServiceId, ProviderId, QueueId, Dequeued, VisibleOn, ExpiresOn, CreatedOn, ModifiedOn, Payload)
            SELECT ServiceId, ProviderId, QueueId, 0, now(), now() + make_interval(secs => @expiry), now(), now(), Payload FROM moved
            RETURNING MessageId
            """);
        command.Parameters.AddWithValue("service", session.ServiceId);
        command.Parameters.AddWithValue("id", id);
        command.Parameters.AddWithValue("expiry", session.Streams.ExpiryTimeout.TotalSeconds);
        return await command.ExecuteScalarAsync(ct) as long?;
    }

    private sealed record ReplayResult(long Id, bool Replayed, long? NewMessageId, string? Refused);

    private sealed record StreamDeadLetter(long Id, string Queue, int Attempts, DateTime DeadOn, DateTime CreatedOn, int PayloadBytes);

    private sealed record Rejected(long Id, string Component, string Key, Guid? MessageId, string Type, string Reason, DateTime RejectedOn);

    private static async Task<List<StreamDeadLetter>> ReadStreamDeadLettersAsync(NpgsqlDataSource database, string serviceId, CancellationToken ct)
    {
        await using var command = database.CreateCommand("""
            SELECT MessageId, QueueId, Dequeued, DeadOn, CreatedOn, coalesce(octet_length(Payload), 0)
            FROM OrleansStreamDeadLetter WHERE ServiceId = @service ORDER BY DeadOn, MessageId
            """);
        command.Parameters.AddWithValue("service", serviceId);
        var rows = new List<StreamDeadLetter>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            rows.Add(new StreamDeadLetter(reader.GetInt64(0), reader.GetString(1), reader.GetInt32(2), reader.GetDateTime(3), reader.GetDateTime(4), reader.GetInt32(5)));
        }

        return rows;
    }

    private static async Task<List<Rejected>> ReadRejectedAsync(NpgsqlDataSource database, string serviceId, CancellationToken ct)
    {
        await using var command = database.CreateCommand("""
            SELECT Id, Component, StreamKey, MessageId, MessageType, Reason, RejectedOn
            FROM ExactlyOnceRejectedMessage WHERE ServiceId = @service ORDER BY Id
            """);
        command.Parameters.AddWithValue("service", serviceId);
        var rows = new List<Rejected>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            rows.Add(new Rejected(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetGuid(3), reader.GetString(4), reader.GetString(5), reader.GetDateTime(6)));
        }

        return rows;
    }
}
