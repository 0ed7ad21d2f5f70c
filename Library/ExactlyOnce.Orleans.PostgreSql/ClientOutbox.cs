using ExactlyOnce.Messaging;
using Npgsql;
using NpgsqlTypes;
using Orleans.Serialization;

namespace ExactlyOnce.PostgreSql;

/// <summary>A message a client producer recorded: where it goes, its number there, and the payload every copy carries.</summary>
public sealed record ClientRecord(string ProducerId, string StreamNamespace, string StreamKey, long Sequence, IMessage Message);

/// <summary>
/// The client producers' outbox in PostgreSQL (tables of 08-producers.sql). A client message is
/// numbered and recorded, in one transaction on its (producer, stream) counter row, before it is
/// published; the publish is confirmed afterwards. Records are kept: a re-send publishes the
/// recorded copy (same id, same sequence, same payload), and the silos' sweeper publishes records
/// left unconfirmed by a client that died.
/// </summary>
public sealed class ClientOutbox(NpgsqlDataSource database, string serviceId, Serializer serializer)
{
    /// <summary>
    /// The producer id of a named producer (kind <c>client</c>, e.g. <c>cli</c>), created with a
    /// new incarnation the first time the name is used; the same id afterwards, from any process.
    /// </summary>
    public async Task<string> NamedProducerAsync(string name, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("""
            WITH created AS (
                INSERT INTO ExactlyOnceProducer (ServiceId, Kind, Name, Incarnation, ProducerId)
                SELECT @service, @kind, @name, i, @prefix || i::text
                FROM (SELECT nextval('ExactlyOnceProducerIncarnation') AS i) AS n
                WHERE NOT EXISTS (SELECT 1 FROM ExactlyOnceProducer WHERE ServiceId = @service AND Kind = @kind AND Name = @name)
                ON CONFLICT DO NOTHING
                RETURNING ProducerId)
            SELECT ProducerId FROM created
            UNION ALL
            SELECT ProducerId FROM ExactlyOnceProducer WHERE ServiceId = @service AND Kind = @kind AND Name = @name
            LIMIT 1
            """);
        command.Parameters.AddWithValue("service", serviceId);
        command.Parameters.AddWithValue("kind", ProducerIds.ClientKind);
        command.Parameters.AddWithValue("name", name);
        command.Parameters.AddWithValue("prefix", $"{ProducerIds.ClientKind}/{name}/");
        // Two processes naming a new producer at once: the loser's statement sees neither row, so ask again.
        for (var attempt = 0; ; attempt++)
        {
            if (await command.ExecuteScalarAsync(cancellationToken) is string producerId)
            {
                return producerId;
            }

            if (attempt == 3)
            {
                throw new InvalidOperationException($"producer '{name}' could not be created or read");
            }
        }
    }

    /// <summary>A new producer for a run: always a new incarnation (a run name used again is a new producer).</summary>
    public async Task<string> NewRunProducerAsync(string runName, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("""
            INSERT INTO ExactlyOnceProducer (ServiceId, Kind, Name, Incarnation, ProducerId)
            SELECT @service, @kind, @name || '#' || i::text, i, @prefix || i::text
            FROM (SELECT nextval('ExactlyOnceProducerIncarnation') AS i) AS n
            RETURNING ProducerId
            """);
        command.Parameters.AddWithValue("service", serviceId);
        command.Parameters.AddWithValue("kind", ProducerIds.RunKind);
        command.Parameters.AddWithValue("name", runName);
        command.Parameters.AddWithValue("prefix", $"{ProducerIds.RunKind}/{runName}/");
        return (string)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>
    /// Numbers and records the messages in one transaction: per destination stream, the counter
    /// row is locked and moved past them, so concurrent senders of one producer get distinct,
    /// gap-free sequences in the order they recorded. Returns the recorded (sequenced) copies.
    /// </summary>
    public async Task<IReadOnlyList<ClientRecord>> RecordAsync(
        string producerId, IReadOnlyList<(string StreamNamespace, string StreamKey, IMessage Message)> messages, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // A sealed producer hands out no more sequences. The shared row lock makes sealing wait for
        // the records in flight, and records after it see the seal.
        await using (var sealedCheck = new NpgsqlCommand("""
            SELECT Sealed FROM ExactlyOnceProducer WHERE ServiceId = @service AND ProducerId = @producer FOR SHARE
            """, connection, transaction))
        {
            sealedCheck.Parameters.AddWithValue("service", serviceId);
            sealedCheck.Parameters.AddWithValue("producer", producerId);
            if (await sealedCheck.ExecuteScalarAsync(cancellationToken) is true)
            {
                throw new ProducerSealedException($"producer {producerId} is sealed (finished or abandoned): start a new run or producer to send more");
            }
        }

        var records = new List<ClientRecord>(messages.Count);
        foreach (var group in messages.GroupBy(m => (m.StreamNamespace, m.StreamKey)))
        {
            var count = group.Count();
            await using var take = new NpgsqlCommand("""
                INSERT INTO ExactlyOnceProducerStream (ServiceId, ProducerId, StreamNamespace, StreamKey, LastSequence)
                VALUES (@service, @producer, @namespace, @key, @count)
                ON CONFLICT (ServiceId, ProducerId, StreamNamespace, StreamKey)
                DO UPDATE SET LastSequence = ExactlyOnceProducerStream.LastSequence + @count
                RETURNING LastSequence
                """, connection, transaction);
            take.Parameters.AddWithValue("service", serviceId);
            take.Parameters.AddWithValue("producer", producerId);
            take.Parameters.AddWithValue("namespace", group.Key.StreamNamespace);
            take.Parameters.AddWithValue("key", group.Key.StreamKey);
            take.Parameters.AddWithValue("count", (long)count);
            var last = (long)(await take.ExecuteScalarAsync(cancellationToken))!;
            var sequence = last - count;
            foreach (var (ns, key, message) in group)
            {
                records.Add(new ClientRecord(producerId, ns, key, ++sequence, message.WithSequence(producerId, sequence)));
            }
        }

        await using (var insert = new NpgsqlCommand("""
            INSERT INTO ExactlyOnceClientMessage (ServiceId, ProducerId, StreamNamespace, StreamKey, Sequence, MessageId, MessageType, Payload)
            SELECT @service, @producer, n, k, s, m, t, p
            FROM unnest(@namespaces, @keys, @sequences, @ids, @types, @payloads) AS r(n, k, s, m, t, p)
            """, connection, transaction))
        {
            insert.Parameters.AddWithValue("service", serviceId);
            insert.Parameters.AddWithValue("producer", producerId);
            insert.Parameters.AddWithValue("namespaces", records.Select(r => r.StreamNamespace).ToArray());
            insert.Parameters.AddWithValue("keys", records.Select(r => r.StreamKey).ToArray());
            insert.Parameters.AddWithValue("sequences", records.Select(r => r.Sequence).ToArray());
            insert.Parameters.AddWithValue("ids", records.Select(r => r.Message.MessageId).ToArray());
            insert.Parameters.AddWithValue("types", records.Select(r => r.Message.GetType().Name).ToArray());
            insert.Parameters.AddWithValue("payloads", NpgsqlDbType.Array | NpgsqlDbType.Bytea, records.Select(r => serializer.SerializeToArray(r.Message)).ToArray());
            try
            {
                await insert.ExecuteNonQueryAsync(cancellationToken);
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                throw new DuplicateClientMessageException("a message id in this batch is recorded already; re-send the recorded message instead", ex);
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return records;
    }

    /// <summary>Seals a finished producer: it takes no more sequences, so it can be retired once its receivers applied everything.</summary>
    public async Task SealAsync(string producerId, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("UPDATE ExactlyOnceProducer SET Sealed = true WHERE ServiceId = @service AND ProducerId = @producer");
        command.Parameters.AddWithValue("service", serviceId);
        command.Parameters.AddWithValue("producer", producerId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Confirms that these recorded messages were published (the sweeper leaves them alone).</summary>
    public async Task MarkPublishedAsync(IReadOnlyCollection<Guid> messageIds, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("""
            UPDATE ExactlyOnceClientMessage SET PublishedOn = now()
            WHERE ServiceId = @service AND MessageId = ANY(@ids) AND PublishedOn IS NULL
            """);
        command.Parameters.AddWithValue("service", serviceId);
        command.Parameters.AddWithValue("ids", messageIds.ToArray());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The recorded message with this id, or null.</summary>
    public async Task<ClientRecord?> FindAsync(Guid messageId, CancellationToken cancellationToken) =>
        (await ReadAsync("MessageId = @id", p => p.AddWithValue("id", messageId), cancellationToken)).SingleOrDefault();

    /// <summary>Every message the producer recorded, in sequence order per stream.</summary>
    public Task<IReadOnlyList<ClientRecord>> OfProducerAsync(string producerId, CancellationToken cancellationToken) =>
        ReadAsync("ProducerId = @producer", p => p.AddWithValue("producer", producerId), cancellationToken);

    /// <summary>
    /// Publishes, in sequence order per stream, the records still unconfirmed after
    /// <paramref name="olderThan"/>; rows are locked (SKIP LOCKED) so two silos never sweep the
    /// same ones at once. Returns how many were published.
    /// </summary>
    internal async Task<int> SweepAsync(TimeSpan olderThan, int limit, Func<ClientRecord, Task> publish, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var records = new List<ClientRecord>();
        await using (var select = new NpgsqlCommand("""
            SELECT ProducerId, StreamNamespace, StreamKey, Sequence, Payload FROM ExactlyOnceClientMessage
            WHERE ServiceId = @service AND PublishedOn IS NULL AND RecordedOn < now() - make_interval(secs => @age)
            ORDER BY ProducerId, StreamNamespace, StreamKey, Sequence
            LIMIT @limit
            FOR UPDATE SKIP LOCKED
            """, connection, transaction))
        {
            select.Parameters.AddWithValue("service", serviceId);
            select.Parameters.AddWithValue("age", olderThan.TotalSeconds);
            select.Parameters.AddWithValue("limit", limit);
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                records.Add(ReadRecord(reader));
            }
        }

        foreach (var record in records)
        {
            await publish(record);
        }

        await using (var update = new NpgsqlCommand("""
            UPDATE ExactlyOnceClientMessage SET PublishedOn = now() WHERE ServiceId = @service AND MessageId = ANY(@ids)
            """, connection, transaction))
        {
            update.Parameters.AddWithValue("service", serviceId);
            update.Parameters.AddWithValue("ids", records.Select(r => r.Message.MessageId).ToArray());
            await update.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return records.Count;
    }

    private async Task<IReadOnlyList<ClientRecord>> ReadAsync(string condition, Action<NpgsqlParameterCollection> bind, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand($"""
            SELECT ProducerId, StreamNamespace, StreamKey, Sequence, Payload FROM ExactlyOnceClientMessage
            WHERE ServiceId = @service AND {condition}
            ORDER BY StreamNamespace, StreamKey, Sequence
            """);
        command.Parameters.AddWithValue("service", serviceId);
        bind(command.Parameters);
        var records = new List<ClientRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            records.Add(ReadRecord(reader));
        }

        return records;
    }

    private ClientRecord ReadRecord(NpgsqlDataReader reader) => new(
        reader.GetString(0),
        reader.GetString(1),
        reader.GetString(2),
        reader.GetInt64(3),
        serializer.Deserialize<IMessage>(reader.GetFieldValue<byte[]>(4)) ?? throw new InvalidDataException("a recorded client message deserialized to null"));
}

/// <summary>A sealed producer was asked for another sequence.</summary>
public sealed class ProducerSealedException(string message) : Exception(message);

/// <summary>A message id that is recorded already was recorded again.</summary>
public sealed class DuplicateClientMessageException(string message, Exception inner) : Exception(message, inner);
