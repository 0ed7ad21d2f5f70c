using System.Diagnostics;
using ExactlyOnce.Client.Commands;
using ExactlyOnce.Grains;
using ExactlyOnce.Grains.Messages;
using Orleans.Runtime;

namespace ExactlyOnce.Client.Runs;

/// <summary>Records a run, then publishes its copies (with a progress bar and an optional rate limit).</summary>
public static class LoadRunner
{
    public static async Task RunAsync(ClientSession session, RunRecord run, double? ratePerSecond, int seed, CancellationToken cancellationToken)
    {
        var client = await session.ClientAsync(cancellationToken);
        var store = new RunStore(await session.DatabaseAsync(cancellationToken), session.ServiceId);
        // Recorded first: a published message is always known to 'verify', even if this process dies.
        await store.CreateAsync(run, cancellationToken);

        var provider = client.GetStreamProvider(OrleansNames.StreamProvider);
        var sequence = Workload.SendSequence(run, seed);
        var clock = Stopwatch.StartNew();
        await session.Printer.WithProgressAsync($"load {run.Name}", sequence.Count, async report =>
        {
            for (var i = 0; i < sequence.Count; i++)
            {
                var m = sequence[i];
                await PublishWithRetryAsync(
                    () => provider.GetStream<OrderCommand>(StreamId.Create(StreamNamespaces.Orders, m.OrderId))
                        .OnNextAsync(new AddItem(m.MessageId, m.OrderId, m.Filling, run.Mode)),
                    session, cancellationToken);
                report(i + 1);
                if (ratePerSecond is { } rate)
                {
                    var due = TimeSpan.FromSeconds((i + 1) / rate) - clock.Elapsed;
                    if (due > TimeSpan.Zero)
                    {
                        await Task.Delay(due, cancellationToken);
                    }
                }
            }
        });

        await store.MarkCompletedAsync(run.Name, cancellationToken);
    }

    /// <summary>
    /// A retrying sender: a failed publish (database restarting, say) is sent again with the same
    /// id, which is exactly the duplicate the receivers are built to absorb.
    /// </summary>
    private static async Task PublishWithRetryAsync(Func<Task> publish, ClientSession session, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (true)
        {
            try
            {
                await publish();
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException && DateTime.UtcNow < deadline)
            {
                session.Printer.Note($"publish failed, retrying with the same id: {ex.Message.Split('\n', 2)[0]}");
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
        }
    }
}
