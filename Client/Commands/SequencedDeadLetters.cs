using System.Diagnostics;
using ExactlyOnce.Client.Producers;
using ExactlyOnce.Grains;
using ExactlyOnce.Grains.Billing;
using ExactlyOnce.Grains.Messages;
using ExactlyOnce.Messaging;
using ExactlyOnce.Grains.Orders;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace ExactlyOnce.Client.Commands;

/// <summary>A sequenced dead letter (ExactlyOnceDeadLetter), shown with the id <c>s&lt;n&gt;</c>.</summary>
public sealed record SequencedLetter(
    long Id, string Component, string StreamNamespace, string StreamKey, string ProducerId, long Sequence, Guid MessageId,
    string MessageType, int Failures, string Reason, DateTime DeadOn, DateTime? ReplayedOn, DateTime? DiscardedOn,
    DateTime? FirstFailureOn, DateTime? LastFailureOn)
{
    public string Label => $"s{Id}";

    public string Receiver => $"{Component}/{StreamKey}";
}

/// <summary>A producer a receiver waits on: what it has applied, and what sits behind the gap.</summary>
public sealed record BlockedProducer(string Receiver, string ProducerId, long WaitingFor, int Held, long ParkedUpTo, int HeldFailures, string? LastError);

/// <summary>
/// Sequenced dead letters and the gaps they leave: reading them, replaying them, and discarding a
/// position with a tombstone. Receivers are the sample's components: <c>order/&lt;id&gt;</c> (stream
/// <c>orders</c>) and <c>billing/&lt;id&gt;</c> (stream <c>billing</c>).
/// </summary>
public sealed class SequencedDeadLetters(ClientSession session)
{
    /// <summary>Parses <c>s12</c>; null for anything else.</summary>
    public static long? ParseLabel(string text) =>
        text.Length > 1 && text[0] == 's' && long.TryParse(text.AsSpan(1), out var id) && id > 0 ? id : null;

    /// <summary>The sample's receivers: component name and the stream namespace it consumes.</summary>
    private static readonly (string Component, string StreamNamespace)[] Receivers =
        [("order", StreamNamespaces.Orders), ("billing", StreamNamespaces.Billing)];

    /// <summary>The stream a receiver consumes, from its name.</summary>
    public static (string Component, string StreamNamespace, string Key) ParseReceiver(string receiver)
    {
        var slash = receiver.IndexOf('/');
        var (component, key) = slash > 0 ? (receiver[..slash], receiver[(slash + 1)..]) : ("", "");
        var ns = Array.Find(Receivers, r => r.Component == component).StreamNamespace
            ?? throw new UsageException($"bad receiver '{receiver}': order/<order id> or billing/<order id>");
        return (component, ns, Arguments.RequireOrderId(key));
    }

    /// <summary>The receiver name of the component consuming a stream, or null for a stream no component consumes.</summary>
    public static string? ReceiverOf(string streamNamespace, string streamKey) =>
        Array.Find(Receivers, r => r.StreamNamespace == streamNamespace).Component is { } component ? $"{component}/{streamKey}" : null;

    public async Task<List<SequencedLetter>> ListAsync(CancellationToken ct)
    {
        var database = await session.DatabaseAsync(ct);
        await using var command = database.CreateCommand("""
            SELECT Id, Component, StreamNamespace, StreamKey, ProducerId, Sequence, MessageId, MessageType, Failures, Reason, DeadOn, ReplayedOn, DiscardedOn,
                   FirstFailureOn, LastFailureOn
            FROM ExactlyOnceDeadLetter WHERE ServiceId = @service ORDER BY Id
            """);
        command.Parameters.AddWithValue("service", session.ServiceId);
        var rows = new List<SequencedLetter>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            rows.Add(new SequencedLetter(
                reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetInt64(5), reader.GetGuid(6),
                reader.GetString(7), reader.GetInt32(8), reader.GetString(9), reader.GetDateTime(10),
                NullableTime(reader, 11), NullableTime(reader, 12), NullableTime(reader, 13), NullableTime(reader, 14)));
        }

        return rows;
    }

    private static DateTime? NullableTime(System.Data.Common.DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetDateTime(ordinal);

    /// <summary>The producers the receivers of these letters (plus <paramref name="moreReceivers"/>) are blocked on.</summary>
    public async Task<List<BlockedProducer>> BlockedAsync(IEnumerable<string> receivers, CancellationToken ct)
    {
        var blocked = new List<BlockedProducer>();
        foreach (var receiver in receivers.Distinct())
        {
            var protocol = await ProtocolOfAsync(receiver, ct);
            blocked.AddRange(protocol.Producers.Where(p => p.Blocked).Select(p =>
                new BlockedProducer(receiver, p.ProducerId, p.Mark + 1, p.Held, p.ParkedHigh, p.HeldFailures, p.LastError)));
        }

        return blocked;
    }

    /// <summary>
    /// Publishes the dead letter's stored copy to its stream again (applied once, whenever it comes)
    /// and marks it replayed. The copy goes out in the trace the message was first sent in, when the
    /// letter kept it.
    /// </summary>
    public async Task<SequencedLetter> ReplayAsync(long id, CancellationToken ct)
    {
        var letter = (await ListAsync(ct)).Find(l => l.Id == id) ?? throw new UsageException($"no sequenced dead letter s{id} (see 'dead-letters list')");
        var client = await session.ClientAsync(ct);
        var (message, traceParent) = await PayloadAsync(id, ct);
        using (traceParent is null ? null : new Activity($"dead-letters replay s{id}").SetParentId(traceParent).Start())
        {
            await ClientPublishing.PublishAsync(client, letter.StreamNamespace, letter.StreamKey, message);
        }

        await MarkAsync(id, "ReplayedOn", ct);
        return letter;
    }

    /// <summary>
    /// Fills (receiver, producer, sequence) with a tombstone, waits until the receiver has passed
    /// that position, and tells which filled it: the tombstone, or a real copy that came first.
    /// </summary>
    public async Task<DiscardResult> DiscardAsync(string receiver, string producerId, long sequence, long? letterId, CancellationToken ct)
    {
        var (component, ns, key) = ParseReceiver(receiver);
        var tombstone = SequenceTombstone.For(producerId, sequence, letterId is { } l ? $"dead letter s{l} discarded" : "discarded by an operator");
        var client = await session.ClientAsync(ct);
        await ClientPublishing.PublishAsync(client, ns, key, tombstone);
        if (letterId is { } id)
        {
            await MarkAsync(id, "DiscardedOn", ct);
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            var progress = (await ProtocolOfAsync(receiver, ct)).Producers.FirstOrDefault(p => p.ProducerId == producerId);
            if (progress is not null && progress.Mark >= sequence)
            {
                var tombstoneApplied = await TombstoneRecordedAsync(component, key, tombstone.MessageId, ct);
                return new DiscardResult($"{component}/{key}", producerId, sequence, tombstone.MessageId, tombstoneApplied ? "tombstone" : "real copy", progress.Mark);
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500), ct);
        }

        return new DiscardResult($"{component}/{key}", producerId, sequence, tombstone.MessageId, "not yet (the receiver has not reached it; see 'show')", null);
    }

    private async Task<ProtocolView> ProtocolOfAsync(string receiver, CancellationToken ct)
    {
        var (component, _, key) = ParseReceiver(receiver);
        var client = await session.ClientAsync(ct);
        IExactlyOnceReceiver grain = component == "order" ? client.GetGrain<IOrderGrain>(key) : client.GetGrain<IBillingGrain>(key);
        return await grain.GetProtocol();
    }

    /// <summary>The letter's stored copy, and the trace parent it arrived with (null when it had none, or was stored before it was kept).</summary>
    private async Task<(IMessage Message, string? TraceParent)> PayloadAsync(long id, CancellationToken ct)
    {
        var database = await session.DatabaseAsync(ct);
        var client = await session.ClientAsync(ct);
        await using var command = database.CreateCommand("SELECT Payload, TraceParent FROM ExactlyOnceDeadLetter WHERE ServiceId = @service AND Id = @id");
        command.Parameters.AddWithValue("service", session.ServiceId);
        command.Parameters.AddWithValue("id", id);
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        var message = client.ServiceProvider.GetRequiredService<Serializer>().Deserialize<IMessage>(reader.GetFieldValue<byte[]>(0))
            ?? throw new InvalidDataException($"dead letter s{id} has no readable payload");
        return (message, reader.IsDBNull(1) ? null : reader.GetString(1));
    }

    private async Task MarkAsync(long id, string column, CancellationToken ct)
    {
        var database = await session.DatabaseAsync(ct);
        await using var command = database.CreateCommand($"UPDATE ExactlyOnceDeadLetter SET {column} = now() WHERE ServiceId = @service AND Id = @id");
        command.Parameters.AddWithValue("service", session.ServiceId);
        command.Parameters.AddWithValue("id", id);
        await command.ExecuteNonQueryAsync(ct);
    }

    private async Task<bool> TombstoneRecordedAsync(string component, string key, Guid tombstoneId, CancellationToken ct)
    {
        var database = await session.DatabaseAsync(ct);
        await using var command = database.CreateCommand("""
            SELECT count(*) FROM ExactlyOnceRejectedMessage
            WHERE ServiceId = @service AND Component = @component AND StreamKey = @key AND MessageId = @id
              AND Reason LIKE 'tombstone applied%'
            """);
        command.Parameters.AddWithValue("service", session.ServiceId);
        command.Parameters.AddWithValue("component", component);
        command.Parameters.AddWithValue("key", key);
        command.Parameters.AddWithValue("id", tombstoneId);
        return (long)(await command.ExecuteScalarAsync(ct))! > 0;
    }
}

/// <summary>What a discard did: which message filled the position.</summary>
public sealed record DiscardResult(string Receiver, string ProducerId, long Sequence, Guid TombstoneId, string FilledBy, long? MarkNow);
