using ExactlyOnce.Grains.Billing;
using ExactlyOnce.Grains.Messages;
using ExactlyOnce.Messaging;
using ExactlyOnce.Grains.Orders;

namespace ExactlyOnce.Benchmarks;

/// <summary>
/// States as a load run leaves them (deterministic contents): an order that took <c>n</c> adds from
/// one run producer and numbered <c>n</c> events to its bill, and the bill that applied them, one
/// entry each, timed as the client's load and bench commands time them.
/// </summary>
public static class SampleStates
{
    private static readonly Filling[] Fillings = Enum.GetValues<Filling>();
    private static readonly DateTime Start = new(2025, 1, 1, 12, 0, 0, DateTimeKind.Utc);

    public static string OrderProducer => ProducerIds.Grain("order", InMemoryProcessor.Key, 2);

    public static ComponentState<OrderData> Order(int lines) => new()
    {
        Data = new OrderData { Lines = [.. Enumerable.Range(0, lines).Select(i => Fillings[i % Fillings.Length])] },
        ProducerId = OrderProducer,
        OutputSequences = { [$"{Grains.StreamNamespaces.Billing}/{InMemoryProcessor.Key}"] = lines },
        Producers = { [ProducerIds.Run("bench", 1)] = new ProducerProgress { Mark = lines } },
    };

    public static ComponentState<BillData> Bill(int entries)
    {
        var random = new Random(entries);
        var bill = new BillData();
        for (var i = 0; i < entries; i++)
        {
            var filling = Fillings[i % Fillings.Length];
            var sent = Start.AddMilliseconds(i * 7);
            bill.Items.Add(new BillItem(RandomGuid(random), filling, i + 1, Menu.PriceOf(filling), false, sent, sent.AddMilliseconds(40)));
            bill.Total += Menu.PriceOf(filling);
        }

        return new ComponentState<BillData>
        {
            Data = bill,
            Producers = { [OrderProducer] = new ProducerProgress { Mark = entries } },
        };
    }

    private static Guid RandomGuid(Random random)
    {
        Span<byte> bytes = stackalloc byte[16];
        random.NextBytes(bytes);
        return new Guid(bytes);
    }
}
