using ExactlyOnce.Grains.Billing;

namespace ExactlyOnce.Grains.Billing;

/// <summary>Y of the design: one entry per applied billing event, and the total.</summary>
[GenerateSerializer, Alias("bill-data")]
public sealed class BillData
{
    [Id(0)] public List<BillItem> Items { get; set; } = [];

    [Id(1)] public decimal Total { get; set; }
}
