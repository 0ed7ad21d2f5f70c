using ExactlyOnce.Grains.Messages;
using ExactlyOnce.Messaging;

namespace ExactlyOnce.Client.Runs;

/// <summary>A recorded workload: what 'load' sent, for 'verify' to check.</summary>
public sealed record RunRecord(string Name, DeliveryMode Mode, int Orders, int Items, double Duplicates, IReadOnlyList<RunMessage> Messages, string? ProducerId = null)
{
    /// <summary>Copies published in all (originals and re-sends).</summary>
    public int SentCopies => Messages.Sum(m => m.Copies);

    public IEnumerable<string> OrderIds => Messages.Select(m => m.OrderId).Distinct();
}

/// <summary>One unique message of a run (an add, or a remove when <paramref name="Remove"/>) and how many copies were published with its id.</summary>
public sealed record RunMessage(int Seq, Guid MessageId, string OrderId, Filling Filling, int Copies, bool Remove = false)
{
    /// <summary>The command this message is.</summary>
    public OrderCommand ToCommand(DeliveryMode mode) => Remove
        ? new RemoveItem(MessageId, OrderId, Filling, mode)
        : new AddItem(MessageId, OrderId, Filling, mode);
}
