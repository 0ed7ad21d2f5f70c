using Npgsql;

namespace ExactlyOnce.Hosting.Producers;

/// <summary>A run producer not yet retired, with what retiring it needs to know.</summary>
public sealed record RunProducer(string ProducerId, long Incarnation, bool Sealed, long Unpublished, DateTime LastActivity);

/// <summary>One destination of a producer and the last sequence it sent there.</summary>
public sealed record ProducerDestination(string StreamNamespace, string StreamKey, long LastSequence);

/// <summary>The database side of run retirement (ExactlyOnceProducer, ExactlyOnceProducerStream, ExactlyOnceRetirement).</summary>
public sealed class RunRetirementStore(NpgsqlDataSource database, string serviceId)
{
    public async Task<long> WatermarkAsync(CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("SELECT RunWatermark FROM ExactlyOnceRetirement WHERE ServiceId = @service");
        command.Parameters.AddWithValue("service", serviceId);
        return await command.ExecuteScalarAsync(cancellationToken) is long watermark ? watermark : 0;
    }

    /// <summary>Moves the watermark up (never down).</summary>
    public async Task AdvanceAsync(long watermark, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("""
            INSERT INTO ExactlyOnceRetirement (ServiceId, RunWatermark) VALUES (@service, @watermark)
            ON CONFLICT (ServiceId) DO UPDATE SET RunWatermark = greatest(ExactlyOnceRetirement.RunWatermark, EXCLUDED.RunWatermark), ModifiedOn = now()
            """);
        command.Parameters.AddWithValue("service", serviceId);
        command.Parameters.AddWithValue("watermark", watermark);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The run producers above the watermark, lowest incarnation first.</summary>
    public async Task<List<RunProducer>> RunsAboveAsync(long watermark, int limit, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("""
            SELECT p.ProducerId, p.Incarnation, p.Sealed,
                   (SELECT count(*) FROM ExactlyOnceClientMessage m WHERE m.ServiceId = p.ServiceId AND m.ProducerId = p.ProducerId AND m.PublishedOn IS NULL),
                   greatest(p.CreatedOn, (SELECT max(m.RecordedOn) FROM ExactlyOnceClientMessage m WHERE m.ServiceId = p.ServiceId AND m.ProducerId = p.ProducerId))
            FROM ExactlyOnceProducer p
            WHERE p.ServiceId = @service AND p.Kind = 'run' AND p.Incarnation > @watermark
            ORDER BY p.Incarnation
            LIMIT @limit
            """);
        command.Parameters.AddWithValue("service", serviceId);
        command.Parameters.AddWithValue("watermark", watermark);
        command.Parameters.AddWithValue("limit", limit);
        var runs = new List<RunProducer>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            runs.Add(new RunProducer(reader.GetString(0), reader.GetInt64(1), reader.GetBoolean(2), reader.GetInt64(3), reader.GetDateTime(4)));
        }

        return runs;
    }

    public async Task<List<ProducerDestination>> DestinationsAsync(string producerId, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("""
            SELECT StreamNamespace, StreamKey, LastSequence FROM ExactlyOnceProducerStream
            WHERE ServiceId = @service AND ProducerId = @producer
            """);
        command.Parameters.AddWithValue("service", serviceId);
        command.Parameters.AddWithValue("producer", producerId);
        var destinations = new List<ProducerDestination>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            destinations.Add(new ProducerDestination(reader.GetString(0), reader.GetString(1), reader.GetInt64(2)));
        }

        return destinations;
    }

    /// <summary>
    /// Seals a run producer nobody has recorded for since <paramref name="idleFor"/> (a load that
    /// died). Safe whatever the clocks say: the seal is taken under the lock that hands out
    /// sequences, so a client that comes back later is refused, never numbered past the seal.
    /// </summary>
    public async Task<bool> SealIdleAsync(string producerId, TimeSpan idleFor, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("""
            UPDATE ExactlyOnceProducer p SET Sealed = true
            WHERE p.ServiceId = @service AND p.ProducerId = @producer AND NOT p.Sealed
              AND greatest(p.CreatedOn, (SELECT max(m.RecordedOn) FROM ExactlyOnceClientMessage m WHERE m.ServiceId = p.ServiceId AND m.ProducerId = p.ProducerId))
                  < now() - make_interval(secs => @idle)
            """);
        command.Parameters.AddWithValue("service", serviceId);
        command.Parameters.AddWithValue("producer", producerId);
        command.Parameters.AddWithValue("idle", idleFor.TotalSeconds);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }
}
