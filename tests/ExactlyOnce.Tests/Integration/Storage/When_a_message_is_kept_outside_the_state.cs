using System.Diagnostics;
using ExactlyOnce.Grains.Messages;
using ExactlyOnce.Messaging;
using ExactlyOnce.PostgreSql;
using Npgsql;

namespace ExactlyOnce.Tests.Storage;

/// <summary>
/// A parked message and a dead letter keep where the message came from (its trace parent and send
/// time, 10-message-origin.sql), and rows without them (stored before) still read.
/// </summary>
[Trait("Category", "Integration")]
[Trait("Kind", "Integration")]
public sealed class When_a_message_is_kept_outside_the_state
{
    private const string Producer = "client/cli/7";
    private const string Receiver = "order/o1";

    private static readonly MessageOrigin Origin = new(
        $"00-{ActivityTraceId.CreateRandom()}-{ActivitySpanId.CreateRandom()}-01",
        new DateTime(2026, 1, 1, 12, 30, 15, 123, DateTimeKind.Utc));

    private static IMessage Add(long sequence) => new AddItem(Guid.NewGuid(), "o1", Filling.Meat).WithSequence(Producer, sequence);

    [Fact]
    public async Task Should_unpark_a_message_with_the_origin_it_was_parked_with()
    {
        await using var db = await TestDatabase.CreateAsync("parkorigin");
        await using var source = NpgsqlDataSource.Create(db.ConnectionString);
        var parking = new PostgresParkingLot(source, "a", Core.StateSerializer.Instance);
        var (traced, untraced) = (Add(2), Add(3));

        Assert.Equal(ParkResult.Parked, await parking.ParkAsync(Receiver, HeldMessage.Waiting(traced, Origin)));
        Assert.Equal(ParkResult.Parked, await parking.ParkAsync(Receiver, HeldMessage.Waiting(untraced, default)));

        var read = await parking.ReadAsync(Receiver, Producer, 0, 10);
        Assert.Equal([(traced.MessageId, Origin), (untraced.MessageId, default(MessageOrigin))], read.Select(h => (h.Message.MessageId, h.Origin)));
    }

    [Fact]
    public async Task Should_keep_the_origin_with_a_dead_letter()
    {
        await using var db = await TestDatabase.CreateAsync("deadorigin");
        await using var source = NpgsqlDataSource.Create(db.ConnectionString);
        var sink = new PostgresDeadLetterSink(source, "a", Core.StateSerializer.Instance);
        var failure = new FailureRecord(6, "handler threw", Origin.SentUtc!.Value, Origin.SentUtc.Value.AddSeconds(35));

        await sink.DeadLetterAsync(new SequencedDeadLetter("order", "orders", "o1", Add(1), failure, Origin));

        var row = Assert.Single(await db.QueryAsync("SELECT TraceParent, SentOn FROM ExactlyOnceDeadLetter"));
        Assert.Equal(Origin.TraceParent, row[0]);
        Assert.Equal(Origin.SentUtc, ((DateTime)row[1]!).ToUniversalTime());
    }
}
