using System.Text.Json;
using ExactlyOnce.Messaging;
using Npgsql;

namespace ExactlyOnce.Silo.Messaging;

/// <summary>Records every published copy in ExactlyOnceSentMessage.</summary>
public sealed class PostgresSentMessageLog(NpgsqlDataSource database, string serviceId) : ISentMessageLog
{
    public async Task RecordAsync(string component, string streamNamespace, string streamKey, IMessage message)
    {
        await using var command = database.CreateCommand("""
            INSERT INTO ExactlyOnceSentMessage (ServiceId, Component, MessageId, StreamNamespace, StreamKey, MessageType, Payload)
            VALUES (@service, @component, @id, @namespace, @key, @type, @payload)
            """);
        command.Parameters.AddWithValue("service", serviceId);
        command.Parameters.AddWithValue("component", component);
        command.Parameters.AddWithValue("id", message.MessageId);
        command.Parameters.AddWithValue("namespace", streamNamespace);
        command.Parameters.AddWithValue("key", streamKey);
        command.Parameters.AddWithValue("type", message.GetType().Name);
        command.Parameters.AddWithValue("payload", JsonSerializer.Serialize(message, message.GetType()));
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// Deletes up to <paramref name="batch"/> of this service's oldest rows, those recorded more than
    /// <paramref name="retention"/> ago (database clock); returns how many. Ids rise with
    /// <c>SentOn</c>, so the oldest ids are looked at first and the pass stops at the first young one.
    /// </summary>
    public async Task<int> PurgeAsync(TimeSpan retention, int batch, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("""
            DELETE FROM ExactlyOnceSentMessage
             WHERE Id IN (SELECT o.Id
                            FROM (SELECT Id, SentOn FROM ExactlyOnceSentMessage
                                   WHERE ServiceId = @service ORDER BY Id LIMIT @batch) AS o
                     WHERE o.SentOn < now() - @retention)
            """);
        command.Parameters.AddWithValue("service", serviceId);
        command.Parameters.AddWithValue("batch", batch);
        command.Parameters.AddWithValue("retention", retention);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
