using ExactlyOnce.Client.Commands;
using ExactlyOnce.Grains.Messages;
using Npgsql;
using NpgsqlTypes;

namespace ExactlyOnce.Client.Runs;

/// <summary>Runs in PostgreSQL (tables ExactlyOnceRun and ExactlyOnceRunMessage), keyed by service id and name.</summary>
public sealed class RunStore(NpgsqlDataSource database, string serviceId)
{
    /// <summary>Records a run and all its messages before anything is published; a run name is used once.</summary>
    public async Task CreateAsync(RunRecord run, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var insert = new NpgsqlCommand("""
            INSERT INTO ExactlyOnceRun (ServiceId, Name, Mode, Orders, Items, Duplicates, ProducerId)
            VALUES (@service, @name, @mode, @orders, @items, @duplicates, @producer)
            ON CONFLICT DO NOTHING
            """, connection, transaction))
        {
            insert.Parameters.AddWithValue("service", serviceId);
            insert.Parameters.AddWithValue("name", run.Name);
            insert.Parameters.AddWithValue("mode", Arguments.ModeName(run.Mode));
            insert.Parameters.AddWithValue("orders", run.Orders);
            insert.Parameters.AddWithValue("items", run.Items);
            insert.Parameters.AddWithValue("duplicates", run.Duplicates);
            insert.Parameters.AddWithValue("producer", run.ProducerId is { } producer ? producer : DBNull.Value);
            if (await insert.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                throw new UsageException($"run '{run.Name}' exists already; choose another --run name");
            }
        }

        await using (var messages = new NpgsqlCommand("""
            INSERT INTO ExactlyOnceRunMessage (ServiceId, Run, Seq, MessageId, OrderId, Kind, Filling, Copies)
            SELECT @service, @name, s, m, o, k, f, c
            FROM unnest(@seq, @ids, @orders, @kinds, @fillings, @copies) AS t(s, m, o, k, f, c)
            """, connection, transaction))
        {
            messages.Parameters.AddWithValue("service", serviceId);
            messages.Parameters.AddWithValue("name", run.Name);
            messages.Parameters.AddWithValue("seq", NpgsqlDbType.Array | NpgsqlDbType.Integer, run.Messages.Select(m => m.Seq).ToArray());
            messages.Parameters.AddWithValue("ids", NpgsqlDbType.Array | NpgsqlDbType.Uuid, run.Messages.Select(m => m.MessageId).ToArray());
            messages.Parameters.AddWithValue("orders", NpgsqlDbType.Array | NpgsqlDbType.Text, run.Messages.Select(m => m.OrderId).ToArray());
            messages.Parameters.AddWithValue("kinds", NpgsqlDbType.Array | NpgsqlDbType.Text, run.Messages.Select(m => m.Remove ? "remove" : "add").ToArray());
            messages.Parameters.AddWithValue("fillings", NpgsqlDbType.Array | NpgsqlDbType.Text, run.Messages.Select(m => m.Filling.ToString()).ToArray());
            messages.Parameters.AddWithValue("copies", NpgsqlDbType.Array | NpgsqlDbType.Integer, run.Messages.Select(m => m.Copies).ToArray());
            await messages.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    public async Task MarkCompletedAsync(string name, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("UPDATE ExactlyOnceRun SET CompletedOn = now() WHERE ServiceId = @service AND Name = @name");
        command.Parameters.AddWithValue("service", serviceId);
        command.Parameters.AddWithValue("name", name);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Loads a run; throws <see cref="UsageException"/> for an unknown name.</summary>
    public async Task<RunRecord> LoadAsync(string name, CancellationToken cancellationToken)
    {
        await using var head = database.CreateCommand("SELECT Mode, Orders, Items, Duplicates, ProducerId FROM ExactlyOnceRun WHERE ServiceId = @service AND Name = @name");
        head.Parameters.AddWithValue("service", serviceId);
        head.Parameters.AddWithValue("name", name);
        await using var reader = await head.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            throw new UsageException($"unknown run '{name}' (runs are recorded by 'load --run <name>' for service '{serviceId}')");
        }

        var mode = Arguments.ParseMode(reader.GetString(0));
        var (orders, items, duplicates) = (reader.GetInt32(1), reader.GetInt32(2), reader.GetDouble(3));
        var producerId = reader.IsDBNull(4) ? null : reader.GetString(4);
        await reader.DisposeAsync();

        await using var body = database.CreateCommand("""
            SELECT Seq, MessageId, OrderId, Filling, Copies, Kind FROM ExactlyOnceRunMessage
            WHERE ServiceId = @service AND Run = @name ORDER BY Seq
            """);
        body.Parameters.AddWithValue("service", serviceId);
        body.Parameters.AddWithValue("name", name);
        var messages = new List<RunMessage>();
        await using var rows = await body.ExecuteReaderAsync(cancellationToken);
        while (await rows.ReadAsync(cancellationToken))
        {
            messages.Add(new RunMessage(rows.GetInt32(0), rows.GetGuid(1), rows.GetString(2), Enum.Parse<Filling>(rows.GetString(3)), rows.GetInt32(4), rows.GetString(5) == "remove"));
        }

        return new RunRecord(name, mode, orders, items, duplicates, messages, producerId);
    }
}
