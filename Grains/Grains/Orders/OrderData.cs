using ExactlyOnce.Grains.Messages;

namespace ExactlyOnce.Grains.Orders;

/// <summary>X of the design: the order's lines, in the order they were added.</summary>
[GenerateSerializer, Alias("order-data")]
public sealed class OrderData
{
    [Id(0)] public List<Filling> Lines { get; set; } = [];
}
