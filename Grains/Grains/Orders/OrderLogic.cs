using ExactlyOnce.Grains.Messages;
using ExactlyOnce.Messaging;

namespace ExactlyOnce.Grains.Orders;

/// <summary>Component A's business logic: add and remove lines, tell billing about each change.</summary>
public sealed class OrderLogic : IComponentLogic<OrderData, OrderCommand>
{
    public static readonly OrderLogic Instance = new();

    public string Component => "order";

    public string StreamNamespace => StreamNamespaces.Orders;

    public IReadOnlySet<string> OutputStreams { get; } = new HashSet<string> { StreamNamespaces.Billing };

    public OrderData Clone(OrderData data) => new() { Lines = [.. data.Lines] };

    public string? Validate(OrderCommand message, string streamKey)
    {
        if (string.IsNullOrWhiteSpace(message.OrderId))
        {
            return "OrderId is missing";
        }

        if (message.OrderId != streamKey)
        {
            return $"OrderId '{message.OrderId}' does not match the stream key '{streamKey}'";
        }

        var filling = message switch
        {
            AddItem add => add.Filling,
            RemoveItem remove => remove.Filling,
            _ => (Filling?)null,
        };
        if (filling is null)
        {
            return $"unknown command {message.GetType().Name}";
        }

        return Menu.IsOnMenu(filling.Value) ? null : $"unknown filling {(int)filling.Value}";
    }

    public OrderData Handle(OrderData data, OrderCommand message, OutgoingMessages outgoing)
    {
        switch (message)
        {
            case AddItem add:
                data.Lines.Add(add.Filling);
                outgoing.Send(StreamNamespaces.Billing, add.OrderId,
                    (id, mode) => new ItemAdded(id, add.OrderId, add.Filling, data.Lines.Count, mode) { SentAt = add.SentAt });
                break;
            case RemoveItem remove:
                // Removes the last line of that filling; no line, no event.
                var index = data.Lines.LastIndexOf(remove.Filling);
                if (index >= 0)
                {
                    data.Lines.RemoveAt(index);
                    outgoing.Send(StreamNamespaces.Billing, remove.OrderId,
                        (id, mode) => new ItemRemoved(id, remove.OrderId, remove.Filling, data.Lines.Count, mode) { SentAt = remove.SentAt });
                }

                break;
        }

        return data;
    }
}
