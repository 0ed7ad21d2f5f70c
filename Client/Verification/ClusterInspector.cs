using ExactlyOnce.Client.Runs;
using ExactlyOnce.Grains;
using ExactlyOnce.Grains.Billing;
using ExactlyOnce.Grains.Orders;
using ExactlyOnce.Messaging;
using Npgsql;
using NpgsqlTypes;
using Polly;
using Polly.Retry;

namespace ExactlyOnce.Client.Verification;

/// <summary>Reads what verification needs from a running cluster and its database.</summary>
public sealed class ClusterInspector(IClusterClient client, NpgsqlDataSource database, string serviceId)
{
    /// <summary>
    /// Waits until nothing of the run can still move on its own, twice in a row a second apart: no
    /// stream message of this service left, the run's orders and bills with empty outboxes, and no
    /// producer of theirs waiting with held or parked messages, except behind a live dead letter
    /// (which waits for an operator, not for time). False when <paramref name="timeout"/> passes first.
    /// </summary>
    public Task<bool> WaitForQuiescenceAsync(RunRecord run, TimeSpan timeout, Action<string>? progress, CancellationToken cancellationToken) =>
        WaitForQuiescenceAsync(run.OrderIds.ToList(), timeout, progress, cancellationToken);

    /// <inheritdoc cref="WaitForQuiescenceAsync(RunRecord, TimeSpan, Action{string}?, CancellationToken)"/>
    public async Task<bool> WaitForQuiescenceAsync(IReadOnlyCollection<string> orderIds, TimeSpan timeout, Action<string>? progress, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        var quietRounds = 0;
        var rounds = 0;
        while (DateTime.UtcNow < deadline)
        {
            long pendingStream;
            var pendingOutbox = 0;
            var waiting = new List<string>();
            try
            {
                pendingStream = await StreamBacklogAsync(cancellationToken);
                var deadLetters = await LiveDeadLetterPositionsAsync(cancellationToken);
                foreach (var orderId in orderIds)
                {
                    foreach (var (streamNamespace, grain) in new (string, IExactlyOnceReceiver)[]
                             {
                                 (StreamNamespaces.Orders, client.GetGrain<IOrderGrain>(orderId)),
                                 (StreamNamespaces.Billing, client.GetGrain<IBillingGrain>(orderId)),
                             })
                    {
                        var work = await grain.GetPendingWork();
                        pendingOutbox += work.Outbox;
                        waiting.AddRange(work.BlockedProducers
                            .Where(p => !deadLetters.Contains((streamNamespace, orderId, p.ProducerId, p.Mark + 1)))
                            .Select(p => $"{streamNamespace}/{orderId} waits for {p.ProducerId} #{p.Mark + 1} ({p.Held} held{(p.ParkedHigh > p.Mark ? $", parked up to #{p.ParkedHigh}" : "")})"));
                    }
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // A silo or the database is coming back: not quiet yet.
                progress?.Invoke($"waiting for quiescence: {ex.Message.Split('\n', 2)[0]}");
                quietRounds = 0;
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
                continue;
            }

            var quiet = pendingStream == 0 && pendingOutbox == 0 && waiting.Count == 0;
            quietRounds = quiet ? quietRounds + 1 : 0;
            if (quietRounds >= 2)
            {
                return true;
            }

            if (!quiet && ++rounds % 5 == 1)
            {
                progress?.Invoke($"waiting for quiescence: {pendingStream} stream or unpublished client message(s), {pendingOutbox} outbox message(s) pending, {waiting.Count} producer(s) waiting for a message{(waiting.Count > 0 ? $" (first: {waiting[0]})" : "")}");
            }

            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        }

        return false;
    }

    /// <summary>Positions (namespace, key, producer, sequence) of dead letters neither replayed nor discarded.</summary>
    private async Task<HashSet<(string, string, string, long)>> LiveDeadLetterPositionsAsync(CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("""
            SELECT StreamNamespace, StreamKey, ProducerId, Sequence FROM ExactlyOnceDeadLetter
            WHERE ServiceId = @service AND ReplayedOn IS NULL AND DiscardedOn IS NULL
            """);
        command.Parameters.AddWithValue("service", serviceId);
        var positions = new HashSet<(string, string, string, long)>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            positions.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3)));
        }

        return positions;
    }

    /// <summary>
    /// Messages of this service still in the live stream table (not yet confirmed), plus client
    /// messages recorded but not yet published (a sweeper will publish them).
    /// </summary>
    public async Task<long> StreamBacklogAsync(CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("""
            SELECT (SELECT count(*) FROM OrleansStreamMessage WHERE ServiceId = @service)
                 + (SELECT count(*) FROM ExactlyOnceClientMessage WHERE ServiceId = @service AND PublishedOn IS NULL)
            """);
        command.Parameters.AddWithValue("service", serviceId);
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>A grain call that failed while a silo was coming back is read again: 10 attempts, 2 s apart.</summary>
    private static readonly ResiliencePipeline ReadAgain = new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<Exception>(ex => ex is not OperationCanceledException),
            MaxRetryAttempts = 9,
            Delay = TimeSpan.FromSeconds(2),
            BackoffType = DelayBackoffType.Constant,
        })
        .Build();

    public async Task<Dictionary<string, OrderState>> ReadStatesAsync(RunRecord run) =>
        await ReadAgain.ExecuteAsync(async _ => await ReadStatesOnceAsync(run));

    private async Task<Dictionary<string, OrderState>> ReadStatesOnceAsync(RunRecord run)
    {
        var states = new Dictionary<string, OrderState>();
        foreach (var orderId in run.OrderIds)
        {
            var order = await client.GetGrain<IOrderGrain>(orderId).GetOrder();
            var bill = await client.GetGrain<IBillingGrain>(orderId).GetBill();
            states[orderId] = new OrderState(order.Lines, bill.Items);
        }

        return states;
    }

    public async Task<List<SentCopy>> ReadSentCopiesAsync(RunRecord run, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("""
            SELECT MessageId, StreamKey, Payload FROM ExactlyOnceSentMessage
            WHERE ServiceId = @service AND StreamNamespace = 'billing' AND StreamKey = ANY(@orders)
            """);
        command.Parameters.AddWithValue("service", serviceId);
        command.Parameters.AddWithValue("orders", NpgsqlDbType.Array | NpgsqlDbType.Text, run.OrderIds.ToArray());
        var copies = new List<SentCopy>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            copies.Add(new SentCopy(reader.GetGuid(0), reader.GetString(1), reader.GetString(2)));
        }

        return copies;
    }

    /// <summary>Waits for quiescence (up to the timeout) and judges the run.</summary>
    public async Task<VerifyReport> VerifyAsync(RunRecord run, TimeSpan timeout, Action<string>? progress, CancellationToken cancellationToken)
    {
        var quiescent = await WaitForQuiescenceAsync(run, timeout, progress, cancellationToken);
        var states = await ReadStatesAsync(run);
        var sent = await ReadSentCopiesAsync(run, cancellationToken);
        return RunVerifier.Verify(run, states, sent, quiescent);
    }
}
