using System.Text;
using System.Text.Json;
using ExactlyOnce.Grains.Billing;
using ExactlyOnce.Grains.Messages;
using ExactlyOnce.Messaging;
using ExactlyOnce.PostgreSql;
using ExactlyOnce.Silo.Storage;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;
using StoredState = ExactlyOnce.PostgreSql.StateSerializer;

namespace ExactlyOnce.Tests.Storage;

/// <summary>
/// The grain storage serializer: binary by default, JSON by setting, and either one reads what the
/// other (or an earlier version, JSON only) wrote. The real JSON serializer is exercised by
/// Upgrade/When_a_version_1_state_is_loaded; here a stand-in marks which path read the bytes.
/// </summary>
[Trait("Kind", "Unit")]
public sealed class StateSerializerTests
{
    private static readonly Serializer Orleans = ExactlyOnce.Tests.Core.StateSerializer.Instance;

    private static BillData Bill(int items)
    {
        var bill = new BillData();
        for (var i = 0; i < items; i++)
        {
            bill.Items.Add(new BillItem(Guid.NewGuid(), Filling.Meat, i + 1, 95m, false, DateTime.UtcNow, DateTime.UtcNow));
            bill.Total += 95m;
        }

        return bill;
    }

    [Fact]
    public void Should_write_binary_behind_the_marker_and_read_it_back()
    {
        var json = new TextJson();
        var serializer = new StoredState(Orleans, json, StateFormat.Binary);
        var bill = Bill(3);

        var stored = serializer.Serialize(bill);
        var read = serializer.Deserialize<BillData>(stored)!;

        Assert.True(StoredState.IsBinary(stored.ToMemory().Span));
        Assert.Equal(bill.Items, read.Items);
        Assert.Equal(bill.Total, read.Total);
        Assert.Equal(0, json.Reads);
    }

    [Fact]
    public void Should_read_a_state_written_as_json_whatever_it_writes()
    {
        var json = new TextJson();
        var bill = Bill(2);
        var legacy = json.Serialize(bill);

        foreach (var format in new[] { StateFormat.Binary, StateFormat.Json })
        {
            var read = new StoredState(Orleans, json, format).Deserialize<BillData>(legacy)!;
            Assert.Equal(bill.Items, read.Items);
        }

        Assert.Equal(2, json.Reads);
        Assert.False(StoredState.IsBinary(legacy.ToMemory().Span));
    }

    [Fact]
    public void Should_write_json_when_set_and_still_read_binary()
    {
        var json = new TextJson();
        var bill = Bill(2);
        var binary = new StoredState(Orleans, json, StateFormat.Binary).Serialize(bill);
        var asJson = new StoredState(Orleans, json, StateFormat.Json);

        Assert.Equal(bill.Items, asJson.Deserialize<BillData>(binary)!.Items);
        Assert.Equal(0, json.Reads);
        Assert.Equal((byte)'{', asJson.Serialize(bill).ToMemory().Span[0]);
    }

    [Fact]
    public void Should_store_a_bill_in_a_fraction_of_the_json_size()
    {
        var bill = Bill(100);
        var binary = new StoredState(Orleans, new TextJson(), StateFormat.Binary).Serialize(bill).ToMemory().Length;
        var json = Encoding.UTF8.GetByteCount(JsonSerializer.Serialize(bill));

        Assert.True(binary < json / 2, $"binary {binary} B, JSON without type names {json} B");
    }

    /// <summary>A JSON serializer that counts what it reads.</summary>
    private sealed class TextJson : IGrainStorageSerializer
    {
        public int Reads { get; private set; }

        public BinaryData Serialize<T>(T? input) => BinaryData.FromString(JsonSerializer.Serialize(input));

        public T? Deserialize<T>(BinaryData input)
        {
            Reads++;
            return JsonSerializer.Deserialize<T>(input.ToString());
        }
    }
}
