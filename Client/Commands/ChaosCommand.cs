using System.CommandLine;
using ExactlyOnce.Client.Chaos;
using Spectre.Console;
using ExactlyOnce.Hosting;

namespace ExactlyOnce.Client.Commands;

/// <summary><c>chaos</c>: silo processes killed with kill -9 (and PostgreSQL restarted) under load, then verified.</summary>
public static class ChaosCommand
{
    public static Command Create()
    {
        var silos = new Option<int>("--silos") { Description = "Silo processes to start. Default: 3.", DefaultValueFactory = _ => 3 };
        var orders = new Option<int>("--orders") { Description = "Orders. Default: 20.", DefaultValueFactory = _ => 20 };
        var items = new Option<int>("--items") { Description = "Adds per order. Default: 100.", DefaultValueFactory = _ => 100 };
        var duplicates = new Option<double>("--duplicates") { Description = "Fraction re-sent with the same id. Default: 0.1.", DefaultValueFactory = _ => 0.1 };
        var removes = new Option<double>("--removes") { Description = "Fraction of commands that remove a filling sent before (order matters then). Default: 0.", DefaultValueFactory = _ => 0 };
        var mode = new Option<string?>("--mode") { Description = "exactly-once (default), at-least-once or at-most-once." };
        var kills = new Option<int>("--kills") { Description = "kill -9 of a random silo, each followed by a restart. Default: 5.", DefaultValueFactory = _ => 5 };
        var interval = new Option<double>("--kill-interval") { Description = "Seconds between kills. Default: 8.", DefaultValueFactory = _ => 8 };
        var restartDelay = new Option<double>("--restart-delay") { Description = "Seconds before a killed silo is started again. Default: 2.", DefaultValueFactory = _ => 2 };
        var faults = new Option<string[]>("--fault") { Description = "Fault rule armed during the run (repeatable), e.g. after-commit=0.002:crash.", AllowMultipleArgumentsPerToken = true };
        var restartDb = new Option<bool>("--restart-db") { Description = "Restart PostgreSQL once mid-run (immediate mode: a database crash)." };
        var restartDbCommand = new Option<string?>("--db-restart-command") { Description = "Shell command that restarts PostgreSQL. Default: scripts/pg.sh restart (PG_RESTART_MODE=immediate)." };
        var siloDll = new Option<string?>("--silo-dll") { Description = "Path of ExactlyOnce.Silo.dll. Default: the one built next to this client." };
        var basePort = new Option<int>("--base-port") { Description = "First of the silo and gateway ports. Default: 21000.", DefaultValueFactory = _ => 21000 };
        var run = new Option<string?>("--run") { Description = "Run name; also the cluster id of the silos started. Default: chaos-<time>." };
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait for the cluster to drain after the last fault. Default: 300.", DefaultValueFactory = _ => 300 };
        var bound = new Option<int>("--drain-bound") { Description = "The run fails if draining after the last fault takes longer (seconds). Default: 180.", DefaultValueFactory = _ => 180 };
        var backlog = new Option<bool>("--backlog") { Description = "Build a backlog first: the silos start with their pulling agents stopped, the whole load is published, then the agents start on every silo at once and the kills begin (silos started again run with agents on)." };
        var freeze = new Option<double?>("--freeze") { Description = "Freeze one random silo with SIGSTOP for this many seconds, once, before the kills (after --kill-interval), then SIGCONT it: a zombie." };
        var command = new Command("chaos", "Start silo processes, run a load while killing silos with kill -9 (and optionally restarting PostgreSQL), then verify.")
        {
            silos, orders, items, duplicates, mode, kills, interval, restartDelay, faults, restartDb, restartDbCommand, siloDll, basePort, run, timeout, bound, removes, backlog, freeze,
        };
        command.SetAction(async (parse, ct) =>
        {
            var name = parse.GetValue(run) ?? $"chaos-{DateTime.UtcNow:yyyyMMdd-HHmmss}";
            RunNames.Require(name);
            Arguments.RequireRange(parse.GetValue(silos), 2, 20, "--silos");
            LoadCommand.RequireWorkloadSize(parse.GetValue(orders), parse.GetValue(items));
            Arguments.RequireRange(parse.GetValue(kills), 0, 10_000, "--kills");
            Arguments.RequireRange(parse.GetValue(basePort), 1024, 65000, "--base-port");
            Arguments.RequireRange(parse.GetValue(timeout), 1, 86_400, "--timeout");
            Arguments.RequireRange(parse.GetValue(bound), 1, 86_400, "--drain-bound");
            var d = parse.GetValue(duplicates);
            Arguments.RequireFraction(d, "--duplicates");
            Arguments.RequireFraction(parse.GetValue(removes), "--removes");

            if (parse.GetValue(interval) is var i && (i < 0.1 || i > 3600) || parse.GetValue(restartDelay) is < 0 or > 3600)
            {
                throw new UsageException("--kill-interval must be 0.1 to 3600 s and --restart-delay 0 to 3600 s");
            }

            if (parse.GetValue(freeze) is { } f && (f < 1 || f > 3600))
            {
                throw new UsageException("--freeze must be 1 to 3600 s");
            }

            var dll = ClientPrograms.RequireSiloDll(parse.GetValue(siloDll));

            var options = new ChaosOptions(
                parse.GetValue(silos), parse.GetValue(orders), parse.GetValue(items), d, Arguments.ParseMode(parse.GetValue(mode)),
                parse.GetValue(kills), TimeSpan.FromSeconds(parse.GetValue(interval)), TimeSpan.FromSeconds(parse.GetValue(restartDelay)),
                (parse.GetValue(faults) ?? []).Select(Arguments.ParseFaultRule).ToList(), parse.GetValue(restartDb),
                parse.GetValue(restartDbCommand) ?? ClientPrograms.DefaultDatabaseRestartCommand(), dll, parse.GetValue(basePort), name,
                TimeSpan.FromSeconds(parse.GetValue(timeout)), TimeSpan.FromSeconds(parse.GetValue(bound)), parse.GetValue(removes),
                parse.GetValue(backlog), parse.GetValue(freeze) is { } seconds ? TimeSpan.FromSeconds(seconds) : null);
            if (options.RestartDatabase && options.DatabaseRestartCommand is null)
            {
                throw new UsageException("--restart-db needs --db-restart-command (scripts/pg.sh was not found)");
            }

            // The silos started here form their own cluster, named after the run.
            await using var session = ClientSession.ForOwnCluster(parse.GetValue(CommandFactory.Json), name);
            var report = await new ChaosRunner(options, session).RunAsync(ct);
            session.Printer.Result(report, console => Print(console, report));
            return report.Ok ? ExitCodes.Ok : ExitCodes.VerificationFailed;
        });
        return command;
    }

    private static void Print(IAnsiConsole console, ChaosReport r)
    {
        var table = new Table().Title($"chaos {Markup.Escape(r.Run)}").AddColumns("", "");
        table.AddRow("mode / silos", $"{r.Mode} / {r.Silos}");
        table.AddRow("messages sent (unique)", $"{r.Sent} ({r.Unique})");
        table.AddRow("kills (kill -9 + restart)", $"{r.Kills}");
        table.AddRow("silos restarted after crash faults", $"{r.CrashFaultRestarts}");
        table.AddRow("faults fired (crash: from the silos' output; others: as the silos reported, at least)", $"{r.FaultsFired}");
        table.AddRow("  of which crash faults", $"{r.CrashFaultsFired}");
        table.AddRow("PostgreSQL restarts", $"{r.DatabaseRestarts}");
        table.AddRow("load duration", $"{r.LoadSeconds} s");
        if (r.Backlog)
        {
            table.AddRow("backlog: stream rows waiting when the agents started", $"{r.StreamRowsWhenAgentsStarted}");
        }

        table.AddRow("stream rows waiting at the first kill", r.StreamRowsAtFirstKill < 0 ? "-" : $"{r.StreamRowsAtFirstKill}");
        if (r.FrozenSeconds is { } frozen)
        {
            table.AddRow("zombie: frozen (SIGSTOP) then SIGCONT", $"{frozen} s; exited by itself after waking: {(r.ZombieExitedByItself == true ? "yes" : "no")}");
        }

        table.AddRow("time to quiescence from the start of the chaos", $"{r.SecondsFromChaosStartToQuiescence} s");
        table.AddRow("per kill: s until all in flight at the kill were processed", string.Join(", ", r.RecoverySecondsPerKill.Select(s => s is null ? "-" : $"{s} s")));
        table.AddRow("time to quiescence after last fault", $"{r.SecondsToQuiescenceAfterLastFault} s (bound {r.DrainBoundSeconds} s)");
        table.AddRow("lost / duplicated / ghost / inconsistent / reordered", $"{r.Lost} / {r.Duplicated} / {r.Ghost} / {r.Inconsistent} / {r.Reordered}");
        table.AddRow("dead letters: stream / sequenced", $"{r.StreamDeadLetters} / {r.SequencedDeadLetters}");
        table.AddRow("verdict", r.Ok ? "[green]OK[/]" : "[red]FAILED[/]");
        console.Write(table);
    }
}
