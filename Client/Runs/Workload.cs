using ExactlyOnce.Grains.Messages;
using ExactlyOnce.Messaging;

namespace ExactlyOnce.Client.Runs;

/// <summary>Builds a workload of adds and the order in which its copies are published.</summary>
public static class Workload
{
    /// <summary>
    /// <paramref name="orders"/> × <paramref name="items"/> commands: adds, and a fraction
    /// <paramref name="removes"/> of removes of a filling the order was sent before; a fraction
    /// <paramref name="duplicates"/> of them gets a second copy with the same id, as a retrying
    /// sender would send.
    /// </summary>
    public static RunRecord Create(string name, DeliveryMode mode, int orders, int items, double duplicates, int seed, double removes = 0)
    {
        var rng = new Random(seed);
        var fillings = Enum.GetValues<Filling>();
        var sentFillings = Enumerable.Range(0, orders).Select(_ => new List<Filling>()).ToArray();
        var messages = new List<RunMessage>(orders * items);
        for (var i = 0; i < items; i++)
        {
            for (var o = 0; o < orders; o++)
            {
                var copies = rng.NextDouble() < duplicates ? 2 : 1;
                var remove = sentFillings[o].Count > 0 && rng.NextDouble() < removes;
                var filling = remove ? sentFillings[o][rng.Next(sentFillings[o].Count)] : fillings[rng.Next(fillings.Length)];
                if (!remove)
                {
                    sentFillings[o].Add(filling);
                }

                messages.Add(new RunMessage(messages.Count, Guid.NewGuid(), $"{name}-{o}", filling, copies, remove));
            }
        }

        return new RunRecord(name, mode, orders, items, duplicates, messages);
    }

    /// <summary>The publishing sequence: originals in order, each re-send somewhere after its original.</summary>
    public static List<RunMessage> SendSequence(RunRecord run, int seed)
    {
        var rng = new Random(seed);
        var sequence = new List<RunMessage>(run.SentCopies);
        sequence.AddRange(run.Messages);
        foreach (var message in run.Messages.Where(m => m.Copies > 1))
        {
            var original = sequence.IndexOf(message);
            sequence.Insert(rng.Next(original + 1, sequence.Count + 1), message);
        }

        return sequence;
    }
}
