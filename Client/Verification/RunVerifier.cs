using System.Text.Json;
using ExactlyOnce.Client.Commands;
using ExactlyOnce.Client.Runs;
using ExactlyOnce.Grains.Billing;
using ExactlyOnce.Grains.Messages;
using ExactlyOnce.Messaging;

namespace ExactlyOnce.Client.Verification;

/// <summary>What the cluster holds for one order at verification time.</summary>
public sealed record OrderState(IReadOnlyList<Filling> Lines, IReadOnlyList<BillItem> BillItems);

/// <summary>One published copy of a billing event, as recorded in ExactlyOnceSentMessage.</summary>
public sealed record SentCopy(Guid MessageId, string OrderId, string PayloadJson);

/// <summary>Differences found for one order.</summary>
public sealed record OrderDifference(string OrderId, int Expected, int Lines, int BillEntries, int Lost, int Duplicated, int Ghost, int Inconsistent, int Reordered = 0);

/// <summary>The verdict of 'verify'.</summary>
public sealed record VerifyReport(
    string Run,
    string Mode,
    int Sent,
    int Unique,
    int OrderLines,
    int BillEntries,
    int Lost,
    int Duplicated,
    int Ghost,
    int Inconsistent,
    bool Quiescent,
    bool Ok,
    IReadOnlyList<OrderDifference> Differences,
    int Reordered = 0);

/// <summary>
/// The judge. A run's orders each have one producer (the run), which promises its commands are
/// applied once each, in send order. For each order the judge replays the run's unique commands in
/// send order through a model of the order (an add appends a line; a remove takes away the last
/// line of its filling, if any; each change emits one event carrying the line count after it),
/// and compares that with the order's lines and the bill (whose entries are in the order they were
/// applied; each event id derives from its command's id, so it maps back to the command):
/// <list type="bullet">
/// <item><b>lost</b>: an event of the model that is not in the bill;</item>
/// <item><b>duplicated</b>: bill entries beyond one per event id, plus order lines beyond the model's;</item>
/// <item><b>ghost</b>: a bill entry that is no event of the model (nothing the sender meant);</item>
/// <item><b>inconsistent</b>: an event id whose published copies differ, or whose bill entry differs from its
/// published copy or from the model (filling, line count);</item>
/// <item><b>reordered</b>: a bill entry applied after an entry of a command sent later.</item>
/// </list>
/// </summary>
public static class RunVerifier
{
    public static VerifyReport Verify(RunRecord run, IReadOnlyDictionary<string, OrderState> states, IReadOnlyList<SentCopy> sent, bool quiescent)
    {
        var differences = new List<OrderDifference>();
        var copiesById = sent.GroupBy(c => c.MessageId).ToDictionary(g => g.Key, g => g.Select(c => c.PayloadJson).ToList());
        foreach (var order in run.Messages.GroupBy(m => m.OrderId))
        {
            var state = states.GetValueOrDefault(order.Key) ?? new OrderState([], []);
            var (expectedLines, expected) = OrderModel.Replay(order.DistinctBy(m => m.MessageId).OrderBy(m => m.Seq));
            var billById = state.BillItems.GroupBy(i => i.MessageId).ToDictionary(g => g.Key, g => g.ToList());

            var lost = expected.Keys.Count(id => !billById.ContainsKey(id));
            var duplicated = billById.Values.Sum(items => items.Count - 1) + Math.Max(0, state.Lines.Count - expectedLines.Count);
            var ghost = billById.Keys.Count(id => !expected.ContainsKey(id));
            var inconsistent = 0;
            foreach (var (eventId, modelEvent) in expected)
            {
                var payloads = (copiesById.GetValueOrDefault(eventId) ?? []).Select(ReadEvent).ToList();
                var disagree = payloads.Distinct().Count() > 1;
                if (billById.TryGetValue(eventId, out var items))
                {
                    disagree |= items.Any(i => (i.Filling, i.LineCount, i.Removal) != (modelEvent.Filling, modelEvent.LineCount, modelEvent.Removal));
                    disagree |= payloads.Count > 0 && items.Any(i => (i.Filling, i.LineCount) != payloads[0]);
                }

                inconsistent += disagree ? 1 : 0;
            }

            var reordered = CountReordered(state.BillItems, expected);
            var entries = state.BillItems.Count;
            if (lost + duplicated + ghost + inconsistent + reordered > 0 || state.Lines.Count != expectedLines.Count)
            {
                differences.Add(new OrderDifference(order.Key, expected.Count, state.Lines.Count, entries, lost, duplicated, ghost, inconsistent, reordered));
            }
        }

        var totals = (
            Lost: differences.Sum(d => d.Lost),
            Duplicated: differences.Sum(d => d.Duplicated),
            Ghost: differences.Sum(d => d.Ghost),
            Inconsistent: differences.Sum(d => d.Inconsistent),
            Reordered: differences.Sum(d => d.Reordered));
        return new VerifyReport(
            run.Name,
            Arguments.ModeName(run.Mode),
            run.SentCopies,
            run.Messages.Select(m => m.MessageId).Distinct().Count(),
            run.OrderIds.Sum(o => states.GetValueOrDefault(o)?.Lines.Count ?? 0),
            run.OrderIds.Sum(o => states.GetValueOrDefault(o)?.BillItems.Count ?? 0),
            totals.Lost,
            totals.Duplicated,
            totals.Ghost,
            totals.Inconsistent,
            quiescent,
            quiescent && totals == (0, 0, 0, 0, 0),
            differences,
            totals.Reordered);
    }

    /// <summary>Bill entries (first application of each event) that came after the entry of a command sent later.</summary>
    private static int CountReordered(IReadOnlyList<BillItem> bill, IReadOnlyDictionary<Guid, OrderModel.Event> expected)
    {
        var latestSent = -1;
        var reordered = 0;
        foreach (var item in bill.DistinctBy(i => i.MessageId))
        {
            if (!expected.TryGetValue(item.MessageId, out var modelEvent))
            {
                continue;
            }

            if (modelEvent.Seq < latestSent)
            {
                reordered++;
            }

            latestSent = Math.Max(latestSent, modelEvent.Seq);
        }

        return reordered;
    }

    private static (Filling, int) ReadEvent(string payloadJson)
    {
        using var document = JsonDocument.Parse(payloadJson);
        var root = document.RootElement;
        return ((Filling)root.GetProperty(nameof(BillingEvent.Filling)).GetInt32(), root.GetProperty(nameof(BillingEvent.LineCount)).GetInt32());
    }
}
