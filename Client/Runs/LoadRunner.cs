using System.Diagnostics;
using ExactlyOnce.Client.Commands;
using ExactlyOnce.Client.Producers;
using ExactlyOnce.Hosting.Producers;
using ExactlyOnce.PostgreSql;
using ExactlyOnce.Grains;
using ExactlyOnce.Grains.Messages;
using ExactlyOnce.Messaging;

namespace ExactlyOnce.Client.Runs;

/// <summary>Records a run, then publishes its copies (with a progress bar and an optional rate limit).</summary>
public static class LoadRunner
{
    /// <summary>Most messages recorded (numbered) per transaction, just before they are published.</summary>
    private const int MaxRecordChunk = 100;

    /// <summary>
    /// Records and publishes the run. Up to <paramref name="concurrency"/> orders are published at
    /// once, each order's messages one after the other in send order; a rate, when given, is the
    /// offered load of the whole run (open loop: a late message does not delay the schedule).
    /// Every copy is stamped with its publish time (<see cref="OrderCommand.SentAt"/>).
    /// </summary>
    public static async Task RunAsync(ClientSession session, RunRecord run, double? ratePerSecond, int seed, CancellationToken cancellationToken, int concurrency = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(concurrency, 1);
        var client = await session.ClientAsync(cancellationToken);
        var store = new RunStore(await session.DatabaseAsync(cancellationToken), session.ServiceId);
        var outbox = run.Mode == DeliveryMode.ExactlyOnce ? await session.OutboxAsync(cancellationToken) : null;
        // An exactly-once run is a producer of its own: a new incarnation, even for a name used before.
        if (outbox is not null)
        {
            run = run with { ProducerId = await outbox.NewRunProducerAsync(run.Name, cancellationToken) };
        }

        // Recorded first: a published message is always known to 'verify', even if this process dies.
        await store.CreateAsync(run, cancellationToken);

        var sequence = Workload.SendSequence(run, seed);
        var recorded = new Dictionary<Guid, ClientRecord>();
        // A chunk is published within ~10 s even at a limited rate, well before the silos' sweeper
        // (30 s) would take its unconfirmed records for a dead client's.
        var recordChunk = ratePerSecond is { } r ? (int)Math.Clamp(r * 10, 1, MaxRecordChunk * concurrency) : MaxRecordChunk * concurrency;
        var clock = Stopwatch.StartNew();
        var published = 0;
        await session.Printer.WithProgressAsync($"load {run.Name}", sequence.Count, async report =>
        {
            for (var start = 0; start < sequence.Count; start += recordChunk)
            {
                var chunk = sequence.GetRange(start, Math.Min(recordChunk, sequence.Count - start));
                if (outbox is not null)
                {
                    // Numbered per order in send order and recorded before any of them is published.
                    var fresh = chunk.Where(m => !recorded.ContainsKey(m.MessageId)).DistinctBy(m => m.MessageId)
                        .Select(m => (StreamNamespaces.Orders, m.OrderId, (IMessage)m.ToCommand(run.Mode)))
                        .ToList();
                    foreach (var record in await WithRetryAsync(() => RecordOnceAsync(outbox, run.ProducerId!, fresh, cancellationToken), session, cancellationToken))
                    {
                        recorded[record.Message.MessageId] = record;
                    }

                    ClientPublishing.CrashIfArmed("after-record");
                }

                var perOrder = chunk.GroupBy(m => m.OrderId).ToList();
                var parallel = new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken };
                await Parallel.ForEachAsync(perOrder, parallel, async (messages, ct) =>
                {
                    foreach (var m in messages)
                    {
                        if (ratePerSecond is { } rate)
                        {
                            var due = TimeSpan.FromSeconds(Interlocked.Increment(ref published) / rate) - clock.Elapsed;
                            if (due > TimeSpan.Zero)
                            {
                                await Task.Delay(due, ct);
                            }
                        }
                        else
                        {
                            Interlocked.Increment(ref published);
                        }

                        var message = Stamped(outbox is null ? m.ToCommand(run.Mode) : recorded[m.MessageId].Message);
                        await WithRetryAsync(() => ClientPublishing.PublishAsync(client, StreamNamespaces.Orders, m.OrderId, message), session, ct);
                        report(Volatile.Read(ref published));
                    }
                });

                if (outbox is not null)
                {
                    await WithRetryAsync(() => outbox.MarkPublishedAsync([.. chunk.Select(m => m.MessageId).Distinct()], cancellationToken), session, cancellationToken);
                }
            }
        });

        await store.MarkCompletedAsync(run.Name, cancellationToken);
        if (outbox is not null)
        {
            // Finished: the run takes no more sequences, so the silos can retire it once applied.
            await outbox.SealAsync(run.ProducerId!, cancellationToken);
        }
    }

    /// <summary>The copy about to be published, with its publish time; a retry keeps the first attempt's time.</summary>
    private static IMessage Stamped(IMessage message) =>
        message is OrderCommand command ? command with { SentAt = DateTime.UtcNow } : message;

    /// <summary>
    /// Records the chunk; if an earlier attempt did commit although it reported a failure (the
    /// connection broke after the commit), the records are read back instead of numbered again.
    /// </summary>
    private static async Task<IReadOnlyList<ClientRecord>> RecordOnceAsync(
        ClientOutbox outbox, string producerId, IReadOnlyList<(string, string, IMessage)> messages, CancellationToken cancellationToken)
    {
        try
        {
            return await outbox.RecordAsync(producerId, messages, cancellationToken);
        }
        catch (DuplicateClientMessageException)
        {
            var records = new List<ClientRecord>(messages.Count);
            foreach (var (_, _, message) in messages)
            {
                records.Add(await outbox.FindAsync(message.MessageId, cancellationToken)
                    ?? throw new InvalidOperationException($"message {message.MessageId} is neither recorded nor recordable"));
            }

            return records;
        }
    }

    /// <inheritdoc cref="WithRetryAsync{T}(Func{Task{T}}, ClientSession, CancellationToken)"/>
    private static Task WithRetryAsync(Func<Task> action, ClientSession session, CancellationToken cancellationToken) =>
        WithRetryAsync(
            async () =>
            {
                await action();
                return true;
            },
            session,
            cancellationToken);

    /// <summary>
    /// A retrying sender: a failed publish or record (database restarting, say) is tried again;
    /// a publish goes again with the same id and sequence, which is exactly the duplicate the
    /// receivers are built to absorb.
    /// </summary>
    private static async Task<T> WithRetryAsync<T>(Func<Task<T>> action, ClientSession session, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(5);
        while (true)
        {
            try
            {
                return await action();
            }
            catch (Exception ex) when (ex is not OperationCanceledException && ex is not DuplicateClientMessageException && DateTime.UtcNow < deadline)
            {
                session.Printer.Note($"publish failed, retrying with the same id: {ex.Message.Split('\n', 2)[0]}");
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
        }
    }
}
