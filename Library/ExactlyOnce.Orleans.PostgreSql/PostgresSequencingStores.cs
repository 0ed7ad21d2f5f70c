using ExactlyOnce.Messaging;
using Npgsql;
using NpgsqlTypes;
using Orleans.Serialization;

namespace ExactlyOnce.PostgreSql;

/// <summary>Producer incarnations from the PostgreSQL sequence ExactlyOnceProducerIncarnation.</summary>
internal sealed class PostgresProducerIncarnations(NpgsqlDataSource database) : IProducerIncarnations
{
    public async Task<long> NextAsync()
    {
        await using var command = database.CreateCommand("SELECT nextval('ExactlyOnceProducerIncarnation')");
        return (long)(await command.ExecuteScalarAsync())!;
    }
}

/// <summary>
/// The parking table ExactlyOnceParkedMessage; payloads in Orleans' binary serialization, with the
/// trace parent and send time each message arrived with (NULL in rows parked before 10-message-origin.sql).
/// </summary>
internal sealed class PostgresParkingLot(NpgsqlDataSource database, string serviceId, Serializer serializer) : IParkingLot
{
    public async Task<ParkResult> ParkAsync(string receiver, HeldMessage parked)
    {
        var message = parked.Message;
        // Insert if absent, then tell apart "same message again" from "another message with this sequence".
        await using var command = database.CreateCommand("""
            WITH inserted AS (
                INSERT INTO ExactlyOnceParkedMessage (ServiceId, Receiver, ProducerId, Sequence, MessageId, Payload, TraceParent, SentOn)
                VALUES (@service, @receiver, @producer, @sequence, @id, @payload, @traceparent, @sent)
                ON CONFLICT DO NOTHING
                RETURNING MessageId)
            SELECT (SELECT count(*) FROM inserted),
                   (SELECT MessageId FROM ExactlyOnceParkedMessage
                    WHERE ServiceId = @service AND Receiver = @receiver AND ProducerId = @producer AND Sequence = @sequence)
            """);
        command.Parameters.AddWithValue("service", serviceId);
        command.Parameters.AddWithValue("receiver", receiver);
        command.Parameters.AddWithValue("producer", message.ProducerId!);
        command.Parameters.AddWithValue("sequence", message.Sequence);
        command.Parameters.AddWithValue("id", message.MessageId);
        command.Parameters.AddWithValue("payload", NpgsqlDbType.Bytea, serializer.SerializeToArray(message));
        command.Parameters.AddOrigin(parked.Origin);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        if (reader.GetInt64(0) == 1)
        {
            return ParkResult.Parked;
        }

        // The CTE's snapshot does not see its own insert; a missing row here means it was just
        // removed by the receiver itself (not possible inside its own turn), so compare when present.
        return reader.IsDBNull(1) || reader.GetGuid(1) == message.MessageId ? ParkResult.AlreadyParked : ParkResult.Conflict;
    }

    public async Task<IReadOnlyList<HeldMessage>> ReadAsync(string receiver, string producerId, long afterSequence, int limit)
    {
        await using var command = database.CreateCommand("""
            SELECT Payload, TraceParent, SentOn FROM ExactlyOnceParkedMessage
            WHERE ServiceId = @service AND Receiver = @receiver AND ProducerId = @producer AND Sequence > @after
            ORDER BY Sequence
            LIMIT @limit
            """);
        command.Parameters.AddWithValue("service", serviceId);
        command.Parameters.AddWithValue("receiver", receiver);
        command.Parameters.AddWithValue("producer", producerId);
        command.Parameters.AddWithValue("after", afterSequence);
        command.Parameters.AddWithValue("limit", limit);
        var messages = new List<HeldMessage>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var message = serializer.Deserialize<IMessage>(reader.GetFieldValue<byte[]>(0)) ?? throw new InvalidDataException("a parked payload deserialized to null");
            messages.Add(HeldMessage.Waiting(message, MessageOriginColumns.Read(reader, 1)));
        }

        return messages;
    }

    public async Task RemoveAsync(string receiver, string producerId, long throughSequence, IReadOnlyCollection<long> sequences)
    {
        await using var command = database.CreateCommand("""
            DELETE FROM ExactlyOnceParkedMessage
            WHERE ServiceId = @service AND Receiver = @receiver AND ProducerId = @producer
              AND (Sequence <= @through OR Sequence = ANY(@sequences))
            """);
        command.Parameters.AddWithValue("service", serviceId);
        command.Parameters.AddWithValue("receiver", receiver);
        command.Parameters.AddWithValue("producer", producerId);
        command.Parameters.AddWithValue("through", throughSequence);
        command.Parameters.AddWithValue("sequences", sequences.ToArray());
        await command.ExecuteNonQueryAsync();
    }
}

/// <summary>
/// A message's origin in the columns TraceParent and SentOn (10-message-origin.sql) of the parking
/// table and the dead letters: NULL when unknown, as in rows stored before the columns existed.
/// </summary>
internal static class MessageOriginColumns
{
    /// <summary>Adds the parameters <c>@traceparent</c> and <c>@sent</c>.</summary>
    public static void AddOrigin(this NpgsqlParameterCollection parameters, MessageOrigin origin)
    {
        parameters.AddWithValue("traceparent", NpgsqlDbType.Text, (object?)origin.TraceParent ?? DBNull.Value);
        parameters.AddWithValue("sent", NpgsqlDbType.TimestampTz, origin.SentUtc is { } sent ? DateTime.SpecifyKind(sent, DateTimeKind.Utc) : DBNull.Value);
    }

    /// <summary>The origin in columns <paramref name="ordinal"/> (TraceParent) and the one after it (SentOn).</summary>
    public static MessageOrigin Read(NpgsqlDataReader reader, int ordinal) => new(
        reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal),
        reader.IsDBNull(ordinal + 1) ? null : DateTime.SpecifyKind(reader.GetDateTime(ordinal + 1), DateTimeKind.Utc));
}
