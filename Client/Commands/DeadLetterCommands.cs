using System.CommandLine;
using ExactlyOnce.Messaging;
using ExactlyOnce.Grains;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Orleans.Serialization;
using Spectre.Console;
using ExactlyOnce.Hosting;

namespace ExactlyOnce.Client.Commands;

/// <summary>
/// <c>dead-letters list</c>, <c>replay</c> and <c>discard</c>. Three kinds: sequenced messages whose handler
/// kept failing (ExactlyOnceDeadLetter, given up by the recoverability policy; replayable), stream rows
/// that expired or kept killing the silos they reached (OrleansStreamDeadLetter, replayable) and
/// messages the components refused (ExactlyOnceRejectedMessage: invalid ones, and unsequenced ones
/// whose handler kept failing).
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
            var stream = await ReadStreamDeadLettersAsync(session, ct);
            var rejected = await ReadRejectedAsync(database, session.ServiceId, ct);
            var sequencedLetters = new SequencedDeadLetters(session);
            var sequenced = await sequencedLetters.ListAsync(ct);
            var blocked = await sequencedLetters.BlockedAsync(
                sequenced.Where(l => l.DiscardedOn is null).Select(l => l.Receiver).Concat(stream.Where(d => d.ProducerId is not null).Select(d => d.Receiver!)), ct);
            var sequenceConflicts = rejected.Count(r => r.Reason.StartsWith("sequence conflict", StringComparison.Ordinal));
            session.Printer.Result(new { stream, sequenced, blocked, rejected, sequenceConflicts }, console =>
            {
                if (sequenceConflicts > 0)
                {
                    console.MarkupLine($"[red]{sequenceConflicts} sequence conflict(s)[/]: a producer's sequence arrived again under another message id (quarantined below)");
                }

                var held = new Table().Title("sequenced dead letters (replay or discard with: dead-letters replay|discard s<id>)")
                    .AddColumns("id", "receiver", "producer", "sequence", "failures", "reason", "first failure", "last failure", "replayed", "discarded");
                foreach (var l in sequenced)
                {
                    held.AddRow(l.Label, Markup.Escape(l.Receiver), Markup.Escape(l.ProducerId), $"{l.Sequence}", $"{l.Failures}", Markup.Escape(l.Reason), $"{l.FirstFailureOn:u}", $"{l.LastFailureOn ?? l.DeadOn:u}", $"{l.ReplayedOn:u}", $"{l.DiscardedOn:u}");
                }

                console.Write(held);
                var waiting = new Table().Title("blocked producers (the receiver waits for one sequence)").AddColumns("receiver", "producer", "waiting for", "held", "parked up to");
                foreach (var b in blocked)
                {
                    waiting.AddRow(Markup.Escape(b.Receiver), Markup.Escape(b.ProducerId), $"#{b.WaitingFor}", $"{b.Held}", b.ParkedUpTo > 0 ? $"#{b.ParkedUpTo}" : "");
                }

                console.Write(waiting);
                var table = new Table().Title("stream dead letters (replay with: dead-letters replay <id>; give up with: dead-letters discard <id>)")
                    .AddColumns("id", "stream", "producer", "sequence", "reason", "failures", "abandoned", "dead since", "created", "payload bytes");
                foreach (var d in stream)
                {
                    table.AddRow($"{d.Id}", Markup.Escape(d.Stream ?? "(unreadable)"), Markup.Escape(d.ProducerId ?? ""), d.Sequence is { } n ? $"{n}" : "", Markup.Escape(d.Reason ?? ""), $"{d.Failures}", $"{d.Abandoned}", $"{d.DeadOn:u}", $"{d.CreatedOn:u}", $"{d.PayloadBytes}");
                }

                console.Write(table);
                var invalid = new Table().Title("rejected invalid messages (not replayable)").AddColumns("component", "key", "message id", "type", "reason", "rejected");
                foreach (var r in rejected)
                {
                    invalid.AddRow(r.Component, Markup.Escape(r.Key), $"{r.MessageId}", r.Type, Markup.Escape(r.Reason), $"{r.RejectedOn:u}");
                }

                console.Write(invalid);
            });
            return ExitCodes.Ok;
        });

        var id = new Argument<string?>("id") { Description = "Id from 'dead-letters list': a number for a stream dead letter, s<n> for a sequenced one.", Arity = ArgumentArity.ZeroOrOne };
        var all = new Option<bool>("--all") { Description = "Replay every replayable stream dead letter." };
        var replay = new Command("replay", "Put stream dead letters back on their queue. Exactly-once consumers deduplicate on the message id, so a message that was in fact processed is not applied again.")
        {
            id, all,
        };
        replay.SetSessionAction(async (parse, session, ct) =>
        {
            var (text, every) = (parse.GetValue(id), parse.GetValue(all));
            if (text is null == !every)
            {
                throw new UsageException("give either a dead-letter id or --all");
            }

            if (text is not null && SequencedDeadLetters.ParseLabel(text) is { } sequencedId)
            {
                var letter = await new SequencedDeadLetters(session).ReplayAsync(sequencedId, ct);
                session.Printer.Result(
                    new { replayed = letter.Label, receiver = letter.Receiver, producerId = letter.ProducerId, sequence = letter.Sequence, messageId = letter.MessageId },
                    console => console.WriteLine($"dead letter {letter.Label} ({letter.ProducerId} #{letter.Sequence}) published again to {letter.Receiver}; it is applied once, however often it is replayed"));
                return ExitCodes.Ok;
            }

            long? one = text is null ? null
                : long.TryParse(text, out var number) && number > 0 ? number
                : throw new UsageException($"bad dead-letter id '{text}': a number (stream dead letter) or s<n> (sequenced dead letter)");

            var retention = InboxPolicy.RetentionFor(session.Streams.ExpiryTimeout, session.Streams.VisibilityTimeout, session.Streams.MaxEventDeliveryTime, InboxPolicy.DefaultSafetyMargin);
            var database = await session.DatabaseAsync(ct);
            var candidates = (await ReadStreamDeadLettersAsync(session, ct)).Where(d => every || d.Id == one).ToList();
            if (one is { } wanted && candidates.Count == 0)
            {
                throw new UsageException($"no stream dead letter with id {wanted} (see 'dead-letters list'; rejected invalid messages cannot be replayed)");
            }

            var results = new List<ReplayResult>();
            foreach (var d in candidates)
            {
                string? refused = d.PayloadBytes == 0 ? "no payload kept"
                    : d.ProducerId is null && DateTime.UtcNow - d.CreatedOn > retention ? $"unsequenced and older than the fallback retention ({retention}): its id may be forgotten, a replay could apply it twice"
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
            return ExitCodes.Ok;
        });

        deadLetters.Subcommands.Add(list);
        deadLetters.Subcommands.Add(replay);
        deadLetters.Subcommands.Add(CreateDiscard());
        return deadLetters;
    }

    /// <summary><c>discard s&lt;id&gt;</c> or <c>discard --receiver R --producer P --sequence N</c>: fill a producer's position with a tombstone.</summary>
    private static Command CreateDiscard()
    {
        var id = new Argument<string?>("id") { Description = "A dead letter from 'dead-letters list': a number (stream dead letter) or s<n> (sequenced dead letter).", Arity = ArgumentArity.ZeroOrOne };
        var receiver = new Option<string?>("--receiver") { Description = "Receiver waiting for the position: order/<order id> or billing/<order id>." };
        var producer = new Option<string?>("--producer") { Description = "Producer id whose position is given up (from 'show' or 'dead-letters list')." };
        var sequence = new Option<long?>("--sequence") { Description = "The position given up." };
        var discard = new Command("discard", "Give up a producer's message: fill its position with a tombstone, applied as a no-op, so the producer's later messages flow. Reports whether the tombstone or a late real copy filled it.")
        {
            id, receiver, producer, sequence,
        };
        discard.SetSessionAction(async (parse, session, ct) =>
        {
            var letters = new SequencedDeadLetters(session);
            var (text, r, p, n) = (parse.GetValue(id), parse.GetValue(receiver), parse.GetValue(producer), parse.GetValue(sequence));
            DiscardResult result;
            if (text is not null)
            {
                if (r is not null || p is not null || n is not null)
                {
                    throw new UsageException("give either s<id> or --receiver, --producer and --sequence, not both");
                }

                if (SequencedDeadLetters.ParseLabel(text) is { } letterId)
                {
                    var letter = (await letters.ListAsync(ct)).Find(l => l.Id == letterId) ?? throw new UsageException($"no sequenced dead letter {text} (see 'dead-letters list')");
                    result = await letters.DiscardAsync(letter.Receiver, letter.ProducerId, letter.Sequence, letter.Id, ct);
                }
                else if (long.TryParse(text, out var streamId) && streamId > 0)
                {
                    var letter = (await ReadStreamDeadLettersAsync(session, ct)).Find(d => d.Id == streamId) ?? throw new UsageException($"no stream dead letter {text} (see 'dead-letters list')");
                    if (letter.Receiver is null || letter.ProducerId is null || letter.Sequence is null)
                    {
                        throw new UsageException($"stream dead letter {text} carries no readable producer sequence (an unsequenced message): nothing waits for it, replay it or leave it");
                    }

                    result = await letters.DiscardAsync(letter.Receiver, letter.ProducerId, letter.Sequence.Value, null, ct);
                }
                else
                {
                    throw new UsageException($"bad dead-letter id '{text}': a number (stream dead letter) or s<n> (sequenced dead letter)");
                }
            }
            else
            {
                if (r is null || string.IsNullOrWhiteSpace(p) || n is null)
                {
                    throw new UsageException("give s<id>, or all of --receiver, --producer and --sequence");
                }

                Arguments.RequireRange(n.Value, 1, long.MaxValue, "--sequence");
                SequencedDeadLetters.ParseReceiver(r);
                result = await letters.DiscardAsync(r, p, n.Value, null, ct);
            }

            session.Printer.Result(result, console => console.WriteLine(
                $"{result.Receiver}: {result.ProducerId} #{result.Sequence} filled by {result.FilledBy}" + (result.MarkNow is { } mark ? $"; applied through #{mark} now" : "")));
            return result.MarkNow is null ? ExitCodes.VerificationFailed : ExitCodes.Ok;
        });
        return discard;
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

    private sealed record StreamDeadLetter(
        long Id, string Queue, int Failures, int Abandoned, string? Reason, DateTime DeadOn, DateTime CreatedOn, int PayloadBytes,
        string? Stream, Guid? MessageId, string? ProducerId, long? Sequence, [property: System.Text.Json.Serialization.JsonIgnore] string? Receiver);

    private sealed record Rejected(long Id, string Component, string Key, Guid? MessageId, string Type, string Reason, DateTime RejectedOn);

    /// <summary>The provider's dead letters, with the stream, message, producer and sequence read from their payloads where possible.</summary>
    private static async Task<List<StreamDeadLetter>> ReadStreamDeadLettersAsync(ClientSession session, CancellationToken ct)
    {
        var database = await session.DatabaseAsync(ct);
        var serializer = (await session.ClientAsync(ct)).ServiceProvider.GetRequiredService<Serializer>();
        await using var command = database.CreateCommand("""
            SELECT MessageId, QueueId, Failures, Abandoned, Reason, DeadOn, CreatedOn, coalesce(octet_length(Payload), 0), Payload
            FROM OrleansStreamDeadLetter WHERE ServiceId = @service ORDER BY DeadOn, MessageId
            """);
        command.Parameters.AddWithValue("service", session.ServiceId);
        var rows = new List<StreamDeadLetter>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var decoded = reader.IsDBNull(8) ? null : StreamDeadLetterPayloads.Decode(reader.GetFieldValue<byte[]>(8), serializer);
            var message = decoded?.Message;
            var receiver = decoded is null ? null : SequencedDeadLetters.ReceiverOf(decoded.StreamNamespace, decoded.StreamKey);
            rows.Add(new StreamDeadLetter(
                reader.GetInt64(0), reader.GetString(1), reader.GetInt32(2), reader.GetInt32(3), reader.IsDBNull(4) ? null : reader.GetString(4),
                reader.GetDateTime(5), reader.GetDateTime(6), reader.GetInt32(7),
                decoded is null ? null : $"{decoded.StreamNamespace}/{decoded.StreamKey}", message?.MessageId, message?.ProducerId,
                message?.ProducerId is null ? null : message.Sequence, receiver));
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
