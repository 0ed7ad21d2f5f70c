using System.CommandLine;
using System.Globalization;
using ExactlyOnce.Grains.Billing;
using ExactlyOnce.Grains.Orders;
using Spectre.Console;

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
            var view = await (await session.ClientAsync(ct)).GetGrain<IOrderGrain>(id).GetOrder();
            session.Printer.Result(
                new { orderId = view.OrderId, lines = view.Lines.Select(l => l.ToString()), inboxSize = view.InboxSize, pendingOutbox = view.PendingOutbox },
                console =>
                {
                    console.MarkupLine($"order [bold]{Markup.Escape(view.OrderId)}[/]: {view.Lines.Count} line(s), inbox {view.InboxSize} id(s), {view.PendingOutbox.Count} pending outgoing");
                    for (var i = 0; i < view.Lines.Count; i++)
                    {
                        console.WriteLine($"  {i + 1,3}. {view.Lines[i]}");
                    }
                });
            return ClientApp.ExitOk;
        });

        var billId = new Argument<string>("id") { Description = "Order id." };
        var billing = new Command("billing", "The bill: one entry per applied event, and the total.") { billId };
        billing.SetSessionAction(async (parse, session, ct) =>
        {
            var id = Arguments.RequireOrderId(parse.GetValue(billId));
            var view = await (await session.ClientAsync(ct)).GetGrain<IBillingGrain>(id).GetBill();
            session.Printer.Result(
                new
                {
                    orderId = view.OrderId,
                    items = view.Items.Select(i => new { messageId = i.MessageId, filling = i.Filling.ToString(), lineCount = i.LineCount, price = i.Price }),
                    total = view.Total,
                    inboxSize = view.InboxSize,
                    pendingOutbox = view.PendingOutbox,
                },
                console => console.Write(BillTable(view)));
            return ClientApp.ExitOk;
        });

        show.Subcommands.Add(order);
        show.Subcommands.Add(billing);
        return show;
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
