using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ExactlyOnce.Messaging;
using Npgsql;
using NpgsqlTypes;
using Orleans.Serialization;

namespace ExactlyOnce.PostgreSql;

/// <summary>
/// Stores sequenced dead letters in ExactlyOnceDeadLetter (one row per position) and rejected
/// messages in ExactlyOnceRejectedMessage (idempotent per message and reason).
/// </summary>
internal sealed class PostgresDeadLetterSink(NpgsqlDataSource database, string serviceId, Serializer serializer) : IDeadLetterSink
{
    public async Task DeadLetterAsync(SequencedDeadLetter letter)
    {
        var message = letter.Message;
        await using var command = database.CreateCommand("""
            INSERT INTO ExactlyOnceDeadLetter
                (ServiceId, Component, StreamNamespace, StreamKey, ProducerId, Sequence, MessageId, MessageType, Payload, PayloadJson,
                 Failures, Reason, FirstFailureOn, LastFailureOn, TraceParent, SentOn)
            VALUES (@service, @component, @namespace, @key, @producer, @sequence, @id, @type, @payload, @json,
                    @failures, @reason, @first, @last, @traceparent, @sent)
            -- The same message failing again after a replay is live again, with its new count; another
            -- message at the same position (a reused sequence) never overwrites the letter.
            ON CONFLICT ON CONSTRAINT ExactlyOnceDeadLetter_Position DO UPDATE
               SET Failures = EXCLUDED.Failures, Reason = EXCLUDED.Reason, LastFailureOn = EXCLUDED.LastFailureOn,
                   DeadOn = now(), ReplayedOn = NULL
             WHERE ExactlyOnceDeadLetter.MessageId = EXCLUDED.MessageId AND ExactlyOnceDeadLetter.DiscardedOn IS NULL
            """);
        command.Parameters.AddWithValue("service", serviceId);
        command.Parameters.AddWithValue("component", letter.Component);
        command.Parameters.AddWithValue("namespace", letter.StreamNamespace);
        command.Parameters.AddWithValue("key", letter.StreamKey);
        command.Parameters.AddWithValue("producer", message.ProducerId!);
        command.Parameters.AddWithValue("sequence", message.Sequence);
        command.Parameters.AddWithValue("id", message.MessageId);
        command.Parameters.AddWithValue("type", message.GetType().Name);
        command.Parameters.AddWithValue("payload", NpgsqlDbType.Bytea, serializer.SerializeToArray(message));
        command.Parameters.AddWithValue("json", JsonSerializer.Serialize(message, message.GetType()));
        command.Parameters.AddWithValue("failures", letter.Failure.Failures);
        command.Parameters.AddWithValue("reason", letter.Failure.Reason);
        command.Parameters.AddWithValue("first", letter.Failure.FirstFailureUtc);
        command.Parameters.AddWithValue("last", letter.Failure.LastFailureUtc);
        command.Parameters.AddOrigin(letter.Origin);
        await command.ExecuteNonQueryAsync();
    }

    public async Task RejectAsync(RejectedMessage message)
    {
        var fingerprint = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes($"{message.MessageType}\n{message.Reason}\n{message.PayloadJson}")));
        await using var command = database.CreateCommand("""
            INSERT INTO ExactlyOnceRejectedMessage
                (ServiceId, Component, StreamNamespace, StreamKey, MessageId, MessageType, Reason, Payload, Fingerprint)
            VALUES (@service, @component, @namespace, @key, @id, @type, @reason, @payload, @fingerprint)
            ON CONFLICT ON CONSTRAINT ExactlyOnceRejectedMessage_Unique DO NOTHING
            """);
        command.Parameters.AddWithValue("service", serviceId);
        command.Parameters.AddWithValue("component", message.Component);
        command.Parameters.AddWithValue("namespace", message.StreamNamespace);
        command.Parameters.AddWithValue("key", message.StreamKey);
        command.Parameters.AddWithValue("id", message.MessageId is { } id ? id : DBNull.Value);
        command.Parameters.AddWithValue("type", message.MessageType);
        command.Parameters.AddWithValue("reason", message.Reason);
        command.Parameters.AddWithValue("payload", message.PayloadJson);
        command.Parameters.AddWithValue("fingerprint", fingerprint);
        await command.ExecuteNonQueryAsync();
    }
}
