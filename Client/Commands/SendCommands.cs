using System.CommandLine;
using ExactlyOnce.Client.Producers;
using ExactlyOnce.Grains;
using ExactlyOnce.Grains.Messages;
using ExactlyOnce.Messaging;
using ExactlyOnce.Hosting.Producers;
using ExactlyOnce.PostgreSql;
using Spectre.Console;
using ExactlyOnce.Hosting;

namespace ExactlyOnce.Client.Commands;

/// <summary>
/// <c>send add-item</c> and <c>send remove-item</c>: publish one command to the orders stream.
/// Exactly-once commands come from a named producer (<c>--producer</c>, default <c>cli</c>): they
/// are numbered and recorded before publishing, so two sends typed one after the other are applied
/// in that order, even from two processes.
/// </summary>
public static class SendCommands
{
    public const string DefaultProducer = "cli";

    public static Command Create()
    {
        var send = new Command("send", "Publish one command to the 'orders' stream.");
        send.Subcommands.Add(CreateOne("add-item", "Add one line of a filling to an order.", (id, order, filling, mode) => new AddItem(id, order, filling, mode)));
        send.Subcommands.Add(CreateOne("remove-item", "Remove one line of a filling from an order.", (id, order, filling, mode) => new RemoveItem(id, order, filling, mode)));
        return send;
    }

    private static Command CreateOne(string name, string description, Func<Guid, string, Filling, DeliveryMode, OrderCommand> create)
    {
        var order = new Option<string>("--order") { Description = "Order id (the stream key).", Required = true };
        var filling = new Option<string>("--filling") { Description = $"One of {Arguments.FillingNames}.", Required = true };
        var id = new Option<string?>("--id") { Description = "Message id. A recorded id is re-sent as recorded (the duplicate a retrying sender makes); a command that differs from the record is refused." };
        var mode = new Option<string?>("--mode") { Description = "exactly-once (default), at-least-once or at-most-once." };
        var producer = new Option<string?>("--producer") { Description = $"Named producer that numbers exactly-once commands (default: {DefaultProducer})." };
        var command = new Command(name, description) { order, filling, id, mode, producer };
        command.SetSessionAction(async (parse, session, ct) =>
        {
            // Everything is validated before connecting: bad input publishes nothing.
            var givenId = parse.GetValue(id) is { } text ? Arguments.ParseId(text, "--id") : (Guid?)null;
            var message = create(
                givenId ?? Guid.NewGuid(),
                Arguments.RequireOrderId(parse.GetValue(order)),
                Arguments.ParseFilling(parse.GetValue(filling)),
                Arguments.ParseMode(parse.GetValue(mode)));
            var producerName = parse.GetValue(producer) ?? DefaultProducer;
            RunNames.Require(producerName, "--producer");

            var client = await session.ClientAsync(ct);
            if (message.Mode != DeliveryMode.ExactlyOnce)
            {
                // The demo's weaker modes are not numbered: they show what happens without the protocol.
                await ClientPublishing.PublishAsync(client, StreamNamespaces.Orders, message.OrderId, message);
                Print(session, message, null, resent: false);
                return ExitCodes.Ok;
            }

            var outbox = await session.OutboxAsync(ct);
            var (record, resent) = await RecordOrFindAsync(session, outbox, producerName, message, givenId is not null, ct);
            ClientPublishing.CrashIfArmed("after-record");
            await ClientPublishing.PublishAsync(client, record);
            await outbox.MarkPublishedAsync([record.Message.MessageId], ct);
            Print(session, record.Message, record, resent);
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>A new command is numbered and recorded; a recorded id is re-sent as recorded, if the command matches the record.</summary>
    private static async Task<(ClientRecord Record, bool Resent)> RecordOrFindAsync(ClientSession session, ClientOutbox outbox, string producerName, OrderCommand message, bool idGiven, CancellationToken ct)
    {
        if (idGiven && await outbox.FindAsync(message.MessageId, ct) is { } recorded)
        {
            if (recorded.Message is not OrderCommand original
                || original.GetType() != message.GetType()
                || original.OrderId != message.OrderId
                || FillingOf(original) != FillingOf(message))
            {
                throw new UsageException(
                    $"message {message.MessageId} is recorded as {Describe(recorded.Message)}; this command ({Describe(message)}) differs, so nothing was sent");
            }

            return (recorded, true);
        }

        if (idGiven)
        {
            await RefuseForgottenFallbackIdAsync(session, message.MessageId, ct);
        }

        var producerId = await outbox.NamedProducerAsync(producerName, ct);
        var records = await outbox.RecordAsync(producerId, [(StreamNamespaces.Orders, message.OrderId, message)], ct);
        return (records[0], false);
    }

    /// <summary>
    /// An id sent before sequencing (a version 1 run) is known to receivers only through the
    /// time-windowed fallback; past its window a re-send would be applied again, so it is refused.
    /// </summary>
    private static async Task RefuseForgottenFallbackIdAsync(ClientSession session, Guid messageId, CancellationToken ct)
    {
        var database = await session.DatabaseAsync(ct);
        await using var command = database.CreateCommand("""
            SELECT r.CreatedOn FROM ExactlyOnceRunMessage m JOIN ExactlyOnceRun r ON r.ServiceId = m.ServiceId AND r.Name = m.Run
            WHERE m.ServiceId = @service AND m.MessageId = @id AND r.ProducerId IS NULL
            """);
        command.Parameters.AddWithValue("service", session.ServiceId);
        command.Parameters.AddWithValue("id", messageId);
        if (await command.ExecuteScalarAsync(ct) is DateTime sentOn)
        {
            var window = InboxPolicy.RetentionFor(session.Streams.ExpiryTimeout, session.Streams.VisibilityTimeout, session.Streams.MaxEventDeliveryTime, InboxPolicy.DefaultSafetyMargin);
            if (DateTime.UtcNow - sentOn > window)
            {
                throw new UsageException($"message {messageId} was sent unsequenced on {sentOn:u}, before its receivers' fallback window ({window}); they may have forgotten it, so a re-send could be applied twice: refused");
            }
        }
    }

    private static void Print(ClientSession session, IMessage message, ClientRecord? record, bool resent)
    {
        var command = (OrderCommand)message;
        session.Printer.Result(
            new
            {
                messageId = message.MessageId,
                orderId = command.OrderId,
                type = message.GetType().Name,
                filling = FillingOf(command),
                mode = Arguments.ModeName(message.Mode),
                producerId = record?.ProducerId,
                sequence = record?.Sequence,
                resent,
            },
            console => console.WriteLine(
                $"{(resent ? "re-sent recorded" : "sent")} {message.GetType().Name} {message.MessageId} to order {command.OrderId} ({Arguments.ModeName(message.Mode)})" +
                (record is null ? "" : $", {record.ProducerId} #{record.Sequence}")));
    }

    private static Filling FillingOf(OrderCommand command) => command switch
    {
        AddItem add => add.Filling,
        RemoveItem remove => remove.Filling,
        _ => throw new ArgumentOutOfRangeException(nameof(command), command.GetType().Name, "not an order command"),
    };

    private static string Describe(IMessage message) =>
        message is OrderCommand c ? $"{c.GetType().Name} of {FillingOf(c)} to order '{c.OrderId}'" : message.GetType().Name;
}
