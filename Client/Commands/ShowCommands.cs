using System.CommandLine;
using System.Globalization;
using ExactlyOnce.Grains.Billing;
using ExactlyOnce.Messaging;
using ExactlyOnce.Grains.Orders;
using Spectre.Console;
using ExactlyOnce.Hosting;

namespace ExactlyOnce.Client.Commands;

/// <summary><c>show order &lt;id&gt;</c> and <c>show billing &lt;id&gt;</c>: the committed state of A and B.</summary>
public static class ShowCommands
{
    public static Command Create()
    {
        var show = new Command("show", "Show the state of an order (component A) or its bill (component B).");

        var orderId = new Argument<string>("id") { Description = "Order id." };
        var order = new Command("order", "The order's lines, inbox size and pending outbox.") { orderId };
        order.SetSessionAction(async (parse, session, ct) =>
        {
            var id = Arguments.RequireOrderId(parse.GetValue(orderId));
            var grain = (await session.ClientAsync(ct)).GetGrain<IOrderGrain>(id);
            var (view, protocol) = (await grain.GetOrder(), await grain.GetProtocol());
            session.Printer.Result(
                new
                {
                    orderId = view.OrderId,
                    exists = view.Exists,
                    lines = view.Lines.Select(l => l.ToString()),
                    inboxSize = view.InboxSize,
                    pendingOutbox = view.PendingOutbox,
                    dedupEntries = protocol.DedupEntries,
                    producers = Producers(protocol),
                    stateBytes = StateBytes(protocol),
                    recoveryReminder = protocol.RecoveryReminder,
                },
                console =>
                {
                    if (!view.Exists)
                    {
                        console.MarkupLine($"order [bold]{Markup.Escape(view.OrderId)}[/] does not exist: it never received anything");
                        return;
                    }

                    console.MarkupLine($"order [bold]{Markup.Escape(view.OrderId)}[/]: {view.Lines.Count} line(s), {view.PendingOutbox.Count} pending outgoing");
                    WriteProtocol(console, protocol);
                    for (var i = 0; i < view.Lines.Count; i++)
                    {
                        console.WriteLine($"  {i + 1,3}. {view.Lines[i]}");
                    }
                });
            return ExitCodes.Ok;
        });

        var billId = new Argument<string>("id") { Description = "Order id." };
        var billing = new Command("billing", "The bill: one entry per applied event, and the total.") { billId };
        billing.SetSessionAction(async (parse, session, ct) =>
        {
            var id = Arguments.RequireOrderId(parse.GetValue(billId));
            var grain = (await session.ClientAsync(ct)).GetGrain<IBillingGrain>(id);
            var (view, protocol) = (await grain.GetBill(), await grain.GetProtocol());
            session.Printer.Result(
                new
                {
                    orderId = view.OrderId,
                    exists = view.Exists,
                    items = view.Items.Select(i => new { messageId = i.MessageId, filling = i.Filling.ToString(), lineCount = i.LineCount, price = i.Price }),
                    total = view.Total,
                    inboxSize = view.InboxSize,
                    pendingOutbox = view.PendingOutbox,
                    dedupEntries = protocol.DedupEntries,
                    producers = Producers(protocol),
                    stateBytes = StateBytes(protocol),
                    recoveryReminder = protocol.RecoveryReminder,
                },
                console =>
                {
                    if (!view.Exists)
                    {
                        console.MarkupLine($"bill of [bold]{Markup.Escape(view.OrderId)}[/] does not exist: it never received an event");
                        return;
                    }

                    console.Write(BillTable(view));
                    WriteProtocol(console, protocol);
                });
            return ExitCodes.Ok;
        });

        show.Subcommands.Add(order);
        show.Subcommands.Add(billing);
        return show;
    }

    private static object Producers(ProtocolView protocol) =>
        protocol.Producers.Select(p => new { id = p.ProducerId, mark = p.Mark, held = p.Held, parkedUpTo = p.ParkedHigh, blocked = p.Blocked, heldFailures = p.HeldFailures, lastError = p.LastError });

    private static object StateBytes(ProtocolView protocol) =>
        new { total = protocol.StateBytes, data = protocol.DataBytes, protocol = protocol.ProtocolBytes };

    private static void WriteProtocol(IAnsiConsole console, ProtocolView protocol)
    {
        console.WriteLine($"  dedup entries {protocol.DedupEntries} ({protocol.Producers.Count} producer(s), {protocol.FallbackIds} fallback id(s)); stored state {protocol.StateBytes} B: data {protocol.DataBytes} B, protocol {protocol.ProtocolBytes} B");
        foreach (var p in protocol.Producers)
        {
            var waiting = p.Blocked ? $", waiting for #{p.Mark + 1}: {p.Held} held{(p.ParkedHigh > p.Mark ? $", parked up to #{p.ParkedHigh}" : "")}{(p.HeldFailures > 0 ? $", {p.HeldFailures} failure(s): {p.LastError}" : "")}" : "";
            console.WriteLine($"  producer {p.ProducerId}: applied through #{p.Mark}{waiting}");
        }
    }

    private static Table BillTable(BillView view)
    {
        var table = new Table().Title($"bill of {Markup.Escape(view.OrderId)}").AddColumns("message id", "filling", "line count", "price");
        foreach (var item in view.Items)
        {
            table.AddRow(item.MessageId.ToString(), item.Filling.ToString(), item.LineCount.ToString(CultureInfo.InvariantCulture), item.Price.ToString(CultureInfo.InvariantCulture));
        }

        table.AddRow("", "", "[bold]total[/]", $"[bold]{view.Total.ToString(CultureInfo.InvariantCulture)}[/]");
        return table;
    }
}
