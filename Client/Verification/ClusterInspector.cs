using ExactlyOnce.Client.Runs;
using ExactlyOnce.Grains.Billing;
using ExactlyOnce.Grains.Orders;
using Npgsql;
using NpgsqlTypes;

namespace ExactlyOnce.Client.Verification;

/// <summary>Reads what verification needs from a running cluster and its database.</summary>
public sealed class ClusterInspector(IClusterClient client, NpgsqlDataSource database, string serviceId)
{
    /// <summary>
    /// Waits until no stream message of this service is left and the run's orders and bills have
    /// empty outboxes, twice in a row a second apart; false when <paramref name="timeout"/> passes first.
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
            try
            {
                pendingStream = await StreamBacklogAsync(cancellationToken);
                foreach (var orderId in orderIds)
                {
                    pendingOutbox += (await client.GetGrain<IOrderGrain>(orderId).GetOrder()).PendingOutbox.Count;
                    pendingOutbox += (await client.GetGrain<IBillingGrain>(orderId).GetBill()).PendingOutbox.Count;
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

            quietRounds = pendingStream == 0 && pendingOutbox == 0 ? quietRounds + 1 : 0;
            if (quietRounds >= 2)
            {
                return true;
            }

            if (pendingStream + pendingOutbox > 0 && ++rounds % 5 == 1)
            {
                progress?.Invoke($"waiting for quiescence: {pendingStream} stream or unpublished client message(s), {pendingOutbox} outbox message(s) pending");
            }

            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        }

        return false;
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

    public async Task<Dictionary<string, OrderState>> ReadStatesAsync(RunRecord run)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await ReadStatesOnceAsync(run);
            }
            catch (Exception) when (attempt < 10)
            {
                // A grain call failed while a silo was coming back: read again.
                await Task.Delay(TimeSpan.FromSeconds(2));
            }
        }
    }

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
