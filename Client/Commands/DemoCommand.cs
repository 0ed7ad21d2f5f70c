using System.CommandLine;
using ExactlyOnce.Client.Runs;
using ExactlyOnce.Client.Verification;
using ExactlyOnce.Faults;
using ExactlyOnce.Grains.Messages;
using Spectre.Console;
using ExactlyOnce.Messaging;
using ExactlyOnce.Hosting;

namespace ExactlyOnce.Client.Commands;

/// <summary>
/// <c>demo</c>: the same workload under at-most-once, at-least-once and exactly-once, with faults
/// on, and one table that shows the loss, the duplicates, and neither.
/// </summary>
public static class DemoCommand
{
    public static Command Create()
    {
        var orders = new Option<int>("--orders") { Description = "Orders per mode. Default: 5.", DefaultValueFactory = _ => 5 };
        var items = new Option<int>("--items") { Description = "Adds per order. Default: 20.", DefaultValueFactory = _ => 20 };
        var duplicates = new Option<double>("--duplicates") { Description = "Fraction re-sent with the same id. Default: 0.1.", DefaultValueFactory = _ => 0.1 };
        var fault = new Option<string>("--fault") { Description = "Fault rule while the demo runs. Default: after-commit=0.2:throw.", DefaultValueFactory = _ => "after-commit=0.2:throw" };
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait for each mode to drain. Default: 180.", DefaultValueFactory = _ => 180 };
        var command = new Command("demo", "Run one workload under each delivery mode with faults on and compare: lost, duplicated, or neither.")
        {
            orders, items, duplicates, fault, timeout,
        };
        command.SetSessionAction(async (parse, session, ct) =>
        {
            var (o, i, d) = (parse.GetValue(orders), parse.GetValue(items), parse.GetValue(duplicates));
            Arguments.RequireRange(o, 1, 1000, "--orders");
            Arguments.RequireRange(i, 1, 1000, "--items");
            Arguments.RequireFraction(d, "--duplicates");

            var rule = Arguments.ParseFaultRule(parse.GetValue(fault)!);
            Arguments.RequireRange(parse.GetValue(timeout), 1, 86_400, "--timeout");
            if (rule.Action == FaultAction.Crash)
            {
                throw new UsageException("the demo injects 'throw' faults only (a crash would stop the silos it runs on)");
            }

            var client = await session.ClientAsync(ct);
            var database = await session.DatabaseAsync(ct);
            var control = client.GetGrain<IFaultControlGrain>(0);
            var before = await control.Get();
            var rows = new List<DemoRow>();
            // Refused (one line, exit 2) on a cluster whose silos run without fault injection.
            var armed = await FaultsCommands.RefusedAsUsageAsync(() => control.Set([rule]));
            try
            {
                await FaultsCommands.WaitAppliedAsync(client, armed, ct);
                session.Printer.Note($"faults on: {rule}");
                var stamp = DateTime.UtcNow.ToString("HHmmss");
                foreach (var mode in new[] { DeliveryMode.AtMostOnce, DeliveryMode.AtLeastOnce, DeliveryMode.ExactlyOnce })
                {
                    // Same seed: the same workload (fillings, duplicates) in every mode, with fresh ids.
                    var run = Workload.Create($"demo-{stamp}-{Arguments.ModeName(mode)}", mode, o, i, d, seed: 2026);
                    await LoadRunner.RunAsync(session, run, ratePerSecond: null, seed: 2026, ct);
                    var report = await new ClusterInspector(client, database, session.ServiceId)
                        .VerifyAsync(run, TimeSpan.FromSeconds(parse.GetValue(timeout)), session.Printer.Note, ct);
                    rows.Add(new DemoRow(report, Lesson(report)));
                }
            }
            finally
            {
                // Leave the cluster's faults as they were.
                var restored = before.Rules is null ? await control.Set([]) : await control.Set(before.Rules);
                await FaultsCommands.WaitAppliedAsync(client, restored, CancellationToken.None);
            }

            session.Printer.Result(
                new { fault = rule.ToString(), rows = rows.Select(r => new { r.Report.Mode, r.Report.Sent, r.Report.Unique, r.Report.OrderLines, r.Report.BillEntries, r.Report.Lost, r.Report.Duplicated, ghosts = r.Report.Ghost, r.Report.Inconsistent, consistent = r.Report.Ok, r.Report.Quiescent, run = r.Report.Run, lesson = r.Lesson }) },
                console => Print(console, rule, rows));
            return rows.Last().Report.Ok ? ExitCodes.Ok : ExitCodes.VerificationFailed;
        });
        return command;
    }

    private sealed record DemoRow(VerifyReport Report, string Lesson);

    private static string Lesson(VerifyReport r) => r.Mode switch
    {
        "at-most-once" => r.Lost > 0
            ? $"Every message was acknowledged whatever happened, so the {r.Lost} events that a fault stopped after the order committed were never sent: X changed, Y did not."
            : "Every message was acknowledged whatever happened; no fault struck between commit and send this time, so nothing was lost by luck.",
        "at-least-once" => r.Duplicated > 0
            ? $"Failed messages were retried until confirmed, but nothing recognised a retry: {r.Duplicated} effects were applied twice."
            : "Failed messages were retried until confirmed; no retry hit an already-applied message this time, so no duplicates by luck.",
        _ => r.Ok
            ? "Retries were recognised by their producer's sequence number and re-sent from the committed outbox: nothing lost, nothing applied twice, in send order."
            : "UNEXPECTED: exactly-once found differences; see 'verify --run " + r.Run + "'.",
    };

    private static void Print(IAnsiConsole console, FaultRule rule, IReadOnlyList<DemoRow> rows)
    {
        var table = new Table().Title($"one workload, three delivery modes, fault {rule}")
            .AddColumns("mode", "sent", "order lines", "bill entries", "lost", "duplicated", "ghosts", "consistent?");
        foreach (var (r, _) in rows)
        {
            table.AddRow(r.Mode, $"{r.Sent}", $"{r.OrderLines}", $"{r.BillEntries}",
                r.Lost > 0 ? $"[red]{r.Lost}[/]" : "0", r.Duplicated > 0 ? $"[red]{r.Duplicated}[/]" : "0", r.Ghost > 0 ? $"[red]{r.Ghost}[/]" : "0",
                r.Ok ? "[green]yes[/]" : "[red]no[/]");
        }

        console.Write(table);
        foreach (var row in rows)
        {
            console.MarkupLine($"[bold]{row.Report.Mode}[/]: {Markup.Escape(row.Lesson)}");
        }
    }
}
