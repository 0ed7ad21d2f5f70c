using ExactlyOnce.Client.Runs;
using ExactlyOnce.Grains.Messages;
using ExactlyOnce.Messaging;

namespace ExactlyOnce.Client.Verification;

/// <summary>
/// The judge's own model of an order, written from the domain's definition (design.md §3), not
/// taken from the grain: what the sender meant when its commands are applied once each, in order.
/// </summary>
public static class OrderModel
{
    /// <summary>An event the model emits: its id (derived from the command's id), content, and the send position of its command.</summary>
    public sealed record Event(Guid Id, Filling Filling, int LineCount, bool Removal, int Seq);

    /// <summary>The final lines and the events, by event id, of applying <paramref name="commands"/> in the given order.</summary>
    public static (List<Filling> Lines, Dictionary<Guid, Event> Events) Replay(IEnumerable<RunMessage> commands)
    {
        var lines = new List<Filling>();
        var events = new Dictionary<Guid, Event>();
        foreach (var command in commands)
        {
            if (command.Remove)
            {
                var index = lines.LastIndexOf(command.Filling);
                if (index < 0)
                {
                    continue; // no line of that filling: nothing changes, nothing is billed
                }

                lines.RemoveAt(index);
            }
            else
            {
                lines.Add(command.Filling);
            }

            var id = MessageIds.Derive(command.MessageId, "order", 0);
            events[id] = new Event(id, command.Filling, lines.Count, command.Remove, command.Seq);
        }

        return (lines, events);
    }
}
