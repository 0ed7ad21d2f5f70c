using System.CommandLine;
using ExactlyOnce.Grains;
using ExactlyOnce.Grains.Messages;
using Orleans.Runtime;
using Spectre.Console;

namespace ExactlyOnce.Client.Commands;

/// <summary><c>send add-item</c> and <c>send remove-item</c>: publish one command to the orders stream.</summary>
public static class SendCommands
{
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
        var id = new Option<string?>("--id") { Description = "Message id to (re)send; a new one when absent. Re-sending an id makes a duplicate, as a retrying sender does." };
        var mode = new Option<string?>("--mode") { Description = "exactly-once (default), at-least-once or at-most-once." };
        var command = new Command(name, description) { order, filling, id, mode };
        command.SetSessionAction(async (parse, session, ct) =>
        {
            // Everything is validated before connecting: bad input publishes nothing.
            var message = create(
                parse.GetValue(id) is { } text ? Arguments.ParseId(text, "--id") : Guid.NewGuid(),
                Arguments.RequireOrderId(parse.GetValue(order)),
                Arguments.ParseFilling(parse.GetValue(filling)),
                Arguments.ParseMode(parse.GetValue(mode)));
            var client = await session.ClientAsync(ct);
            await client.GetStreamProvider(OrleansNames.StreamProvider)
                .GetStream<OrderCommand>(StreamId.Create(StreamNamespaces.Orders, message.OrderId))
                .OnNextAsync(message);
            session.Printer.Result(
                new { messageId = message.MessageId, orderId = message.OrderId, type = message.GetType().Name, filling = message is AddItem a ? a.Filling : ((RemoveItem)message).Filling, mode = Arguments.ModeName(message.Mode) },
                console => console.WriteLine($"sent {message.GetType().Name} {message.MessageId} to order {message.OrderId} ({Arguments.ModeName(message.Mode)})"));
            return ClientApp.ExitOk;
        });
        return command;
    }
}
