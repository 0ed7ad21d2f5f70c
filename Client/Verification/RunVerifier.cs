using System.Text.Json;
using ExactlyOnce.Client.Commands;
using ExactlyOnce.Client.Runs;
using ExactlyOnce.Grains.Billing;
using ExactlyOnce.Grains.Messages;
using ExactlyOnce.Grains.Messaging;

namespace ExactlyOnce.Client.Verification;

/// <summary>What the cluster holds for one order at verification time.</summary>
public sealed record OrderState(IReadOnlyList<Filling> Lines, IReadOnlyList<BillItem> BillItems);

/// <summary>One published copy of a billing event, as recorded in ExactlyOnceSentMessage.</summary>
public sealed record SentCopy(Guid MessageId, string OrderId, string PayloadJson);

/// <summary>Differences found for one order.</summary>
public sealed record OrderDifference(string OrderId, int Expected, int Lines, int BillEntries, int Lost, int Duplicated, int Ghost, int Inconsistent);

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
    IReadOnlyList<OrderDifference> Differences);

/// <summary>
/// The judge. For each order of a run it compares the unique ids sent with the order's lines and
/// the bill:
/// <list type="bullet">
/// <item><b>lost</b>: a unique add whose billing event (id derived from the add's id) is not in the bill;</item>
/// <item><b>duplicated</b>: bill entries beyond one per event id, plus order lines beyond one per unique add;</item>
/// <item><b>ghost</b>: a bill entry whose id derives from no add of the run (nothing the sender committed);</item>
/// <item><b>inconsistent</b>: an event id whose published copies differ, or whose bill entry differs from its
/// published copy or from the add it came from.</item>
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
            var expected = order.DistinctBy(m => m.MessageId).ToDictionary(m => MessageIds.Derive(m.MessageId, "order", 0));
            var billById = state.BillItems.GroupBy(i => i.MessageId).ToDictionary(g => g.Key, g => g.ToList());

            var lost = expected.Keys.Count(id => !billById.ContainsKey(id));
            var duplicated = billById.Values.Sum(items => items.Count - 1) + Math.Max(0, state.Lines.Count - expected.Count);
            var ghost = billById.Keys.Count(id => !expected.ContainsKey(id));
            var inconsistent = 0;
            foreach (var (eventId, add) in expected)
            {
                var copies = copiesById.GetValueOrDefault(eventId) ?? [];
                var payloads = copies.Select(ReadEvent).ToList();
                var disagree = payloads.Distinct().Count() > 1;
                if (billById.TryGetValue(eventId, out var items))
                {
                    disagree |= items.Any(i => i.Filling != add.Filling);
                    disagree |= payloads.Count > 0 && items.Any(i => (i.Filling, i.LineCount) != payloads[0]);
                }

                inconsistent += disagree ? 1 : 0;
            }

            var entries = state.BillItems.Count;
            if (lost + duplicated + ghost + inconsistent > 0 || state.Lines.Count != expected.Count)
            {
                differences.Add(new OrderDifference(order.Key, expected.Count, state.Lines.Count, entries, lost, duplicated, ghost, inconsistent));
            }
        }

        var totals = (
            Lost: differences.Sum(d => d.Lost),
            Duplicated: differences.Sum(d => d.Duplicated),
            Ghost: differences.Sum(d => d.Ghost),
            Inconsistent: differences.Sum(d => d.Inconsistent));
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
            quiescent && totals == (0, 0, 0, 0),
            differences);
    }

    private static (Filling, int) ReadEvent(string payloadJson)
    {
        using var document = JsonDocument.Parse(payloadJson);
        var root = document.RootElement;
        return ((Filling)root.GetProperty(nameof(BillingEvent.Filling)).GetInt32(), root.GetProperty(nameof(BillingEvent.LineCount)).GetInt32());
    }
}
