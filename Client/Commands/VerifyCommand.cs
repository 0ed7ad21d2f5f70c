using System.CommandLine;
using ExactlyOnce.Client.Runs;
using ExactlyOnce.Client.Verification;
using Spectre.Console;
using ExactlyOnce.Hosting;

namespace ExactlyOnce.Client.Commands;

/// <summary><c>verify --run &lt;name&gt;</c>: wait for quiescence, then judge the run.</summary>
public static class VerifyCommand
{
    public static Command Create()
    {
        var run = new Option<string>("--run") { Description = "Name of a run recorded by 'load'.", Required = true };
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait for quiescence. Default: 120.", DefaultValueFactory = _ => 120 };
        var command = new Command("verify", "Wait until streams and outboxes are drained, then count lost, duplicated, ghost and inconsistent messages of a run.")
        {
            run, timeout,
        };
        command.SetSessionAction(async (parse, session, ct) =>
        {
            var name = parse.GetValue(run)!;
            RunNames.Require(name);
            Arguments.RequireRange(parse.GetValue(timeout), 0, 86_400, "--timeout");
            var database = await session.DatabaseAsync(ct);
            var record = await new RunStore(database, session.ServiceId).LoadAsync(name, ct);
            var inspector = new ClusterInspector(await session.ClientAsync(ct), database, session.ServiceId);
            var report = await inspector.VerifyAsync(record, TimeSpan.FromSeconds(parse.GetValue(timeout)), session.Printer.Note, ct);
            session.Printer.Result(report, console => Print(console, report));
            return report.Ok ? ExitCodes.Ok : ExitCodes.VerificationFailed;
        });
        return command;
    }

    private static string Count(int n) => n == 0 ? "0" : $"[red]{n}[/]";

    public static void Print(IAnsiConsole console, VerifyReport report)
    {
        var table = new Table().Title($"verify {Markup.Escape(report.Run)}").AddColumns("", "");
        table.AddRow("mode", report.Mode);
        table.AddRow("sent (unique)", $"{report.Sent} ({report.Unique})");
        table.AddRow("order lines", $"{report.OrderLines}");
        table.AddRow("bill entries", $"{report.BillEntries}");
        table.AddRow("lost", Count(report.Lost));
        table.AddRow("duplicated", Count(report.Duplicated));
        table.AddRow("ghost", Count(report.Ghost));
        table.AddRow("inconsistent", Count(report.Inconsistent));
        table.AddRow("reordered", Count(report.Reordered));
        table.AddRow("quiescent", report.Quiescent ? "yes" : "[yellow]no (timed out)[/]");
        table.AddRow("verdict", report.Ok ? "[green]OK[/]" : "[red]FAILED[/]");
        console.Write(table);
        if (report.Differences.Count > 0)
        {
            var differences = new Table().Title("orders that differ").AddColumns("order", "expected", "lines", "bill entries", "lost", "duplicated", "ghost", "inconsistent", "reordered");
            foreach (var d in report.Differences.Take(50))
            {
                differences.AddRow(Markup.Escape(d.OrderId), $"{d.Expected}", $"{d.Lines}", $"{d.BillEntries}", $"{d.Lost}", $"{d.Duplicated}", $"{d.Ghost}", $"{d.Inconsistent}", $"{d.Reordered}");
            }

            console.Write(differences);
            if (report.Differences.Count > 50)
            {
                console.WriteLine($"... and {report.Differences.Count - 50} more (use --json for all)");
            }
        }
    }
}
