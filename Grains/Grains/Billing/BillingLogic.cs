using ExactlyOnce.Grains.Messages;
using ExactlyOnce.Messaging;

namespace ExactlyOnce.Grains.Billing;

/// <summary>Component B's business logic: bill each added line, credit each removed one.</summary>
public sealed class BillingLogic : IComponentLogic<BillData, BillingEvent>
{
    public static readonly BillingLogic Instance = new();

    public string Component => "billing";

    public string StreamNamespace => StreamNamespaces.Billing;

    public IReadOnlySet<string> OutputStreams { get; } = new HashSet<string>();

    public BillData Clone(BillData data) => new() { Items = [.. data.Items], Total = data.Total };

    public string? Validate(BillingEvent message, string streamKey)
    {
        if (string.IsNullOrWhiteSpace(message.OrderId))
        {
            return "OrderId is missing";
        }

        if (message.OrderId != streamKey)
        {
            return $"OrderId '{message.OrderId}' does not match the stream key '{streamKey}'";
        }

        if (!Menu.IsOnMenu(message.Filling))
        {
            return $"unknown filling {(int)message.Filling}";
        }

        if (message.LineCount < 0)
        {
            return $"negative LineCount {message.LineCount}";
        }

        return message is ItemAdded or ItemRemoved ? null : $"unknown event {message.GetType().Name}";
    }

    public BillData Handle(BillData data, BillingEvent message, OutgoingMessages outgoing)
    {
        var removal = message is ItemRemoved;
        var price = removal ? -Menu.PriceOf(message.Filling) : Menu.PriceOf(message.Filling);
        // Timed only when the client timed the command (load and bench do): publish -> applied here.
        DateTime? appliedAt = message.SentAt is null ? null : DateTime.UtcNow;
        data.Items.Add(new BillItem(message.MessageId, message.Filling, message.LineCount, price, removal, message.SentAt, appliedAt));
        data.Total += price;
        return data;
    }
}
