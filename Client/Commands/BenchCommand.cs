using System.CommandLine;
using ExactlyOnce.Client.Bench;
using Spectre.Console;
using ExactlyOnce.Hosting;

namespace ExactlyOnce.Client.Commands;

/// <summary><c>bench</c>: the same workload in every mode, side by side, measured end to end and verified.</summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var silos = new Option<int?>("--silos") { Description = "Start this many silo processes for the bench (their own cluster). Default: use the running cluster." };
        var orders = new Option<int>("--orders") { Description = "Orders (one grain of A and one of B each). Default: 20.", DefaultValueFactory = _ => 20 };
        var messages = new Option<int>("--messages") { Description = "Messages per measured run, spread evenly over the orders. Default: 2000.", DefaultValueFactory = _ => 2000 };
        var concurrency = new Option<int>("--concurrency") { Description = "Orders the client publishes to at once. Default: 8.", DefaultValueFactory = _ => 8 };
        var rate = new Option<double?>("--rate") { Description = "Offered load in messages per second (open loop). Default: as fast as the client publishes." };
        var warmup = new Option<int>("--warmup") { Description = "Messages of the unmeasured warm-up per mode; every mode warms up before any is measured. Default: 1000.", DefaultValueFactory = _ => 1000 };
        var rounds = new Option<int>("--rounds") { Description = "Measured runs per mode; rounds alternate the modes. Default: 1.", DefaultValueFactory = _ => 1 };
        var modes = new Option<string[]>("--mode") { Description = "Modes to run (repeatable). Default: exactly-once, at-least-once, at-most-once.", AllowMultipleArgumentsPerToken = true };
        var siloDll = new Option<string?>("--silo-dll") { Description = "Path of ExactlyOnce.Silo.dll for --silos. Default: the one built next to this client." };
        var basePort = new Option<int>("--base-port") { Description = "First of the silo and gateway ports for --silos. Default: 22000.", DefaultValueFactory = _ => 22000 };
        var siloArgs = new Option<string[]>("--silo-arg") { Description = "Extra argument for the silos of --silos (repeatable, in order), e.g. --silo-arg=--Messaging:RecordSends --silo-arg=false.", AllowMultipleArgumentsPerToken = false };
        var ceiling = new Option<bool>("--ceiling") { Description = "First measure the database ceiling (scripts/ceiling.sh: pgbench, the statements of one exactly-once message, --concurrency clients) and report exactly-once throughput as a fraction of it." };
        var ceilingSeconds = new Option<int>("--ceiling-seconds") { Description = "Duration of the ceiling measurement. Default: 15.", DefaultValueFactory = _ => 15 };
        var timeout = new Option<int>("--timeout") { Description = "Seconds a run may take to be applied and to drain. Default: 600.", DefaultValueFactory = _ => 600 };
        var command = new Command("bench", "Run the same workload through A -> B in each delivery mode and report throughput, latency, CPU and database cost per message, and the verdict of each run.")
        {
            silos, orders, messages, concurrency, rate, warmup, rounds, modes, siloDll, basePort, timeout, siloArgs, ceiling, ceilingSeconds,
        };
        command.SetAction(async (parse, ct) =>
        {
            var started = parse.GetValue(silos);
            if (started is { } n)
            {
                Arguments.RequireRange(n, 1, 20, "--silos");
            }

            Arguments.RequireRange(parse.GetValue(orders), 1, 10_000, "--orders");
            Arguments.RequireRange(parse.GetValue(messages), 1, LoadCommand.MaxMessages, "--messages");
            Arguments.RequireRange(parse.GetValue(concurrency), 1, 256, "--concurrency");
            Arguments.RequireRange(parse.GetValue(warmup), 0, 100_000, "--warmup");
            Arguments.RequireRange(parse.GetValue(rounds), 1, 100, "--rounds");
            Arguments.RequireRange(parse.GetValue(basePort), 1024, 65000, "--base-port");
            Arguments.RequireRange(parse.GetValue(timeout), 1, 86_400, "--timeout");
            if (parse.GetValue(messages) < parse.GetValue(orders))
            {
                throw new UsageException("--messages must be at least --orders (every order gets the same number of messages)");
            }

            if (parse.GetValue(rate) is { } r && (r <= 0 || double.IsNaN(r) || r > 1_000_000))
            {
                throw new UsageException($"--rate must be a positive number of messages per second, not {r}");
            }

            var chosen = (parse.GetValue(modes) is { Length: > 0 } given ? given : ["exactly-once", "at-least-once", "at-most-once"])
                .Select(Arguments.ParseMode).Distinct().ToList();
            var dll = started is null ? null : ClientPrograms.RequireSiloDll(parse.GetValue(siloDll));

            var extraSiloArgs = parse.GetValue(siloArgs) ?? [];
            if (extraSiloArgs.Length > 0 && started is null)
            {
                throw new UsageException("--silo-arg needs --silos (the bench passes it to the silos it starts)");
            }

            Arguments.RequireRange(parse.GetValue(ceilingSeconds), 1, 3600, "--ceiling-seconds");
            string? ceilingScript = null;
            if (parse.GetValue(ceiling))
            {
                ceilingScript = ClientPrograms.CeilingScript();
                if (ceilingScript is null || !File.Exists(ceilingScript))
                {
                    throw new UsageException("--ceiling needs scripts/ceiling.sh of the repository (run the client from the repository's build)");
                }
            }

            var name = $"bench-{DateTime.UtcNow:yyyyMMdd-HHmmss}";
            var options = new BenchOptions(started, parse.GetValue(orders), parse.GetValue(messages), parse.GetValue(concurrency), parse.GetValue(rate),
                parse.GetValue(warmup), parse.GetValue(rounds), chosen, dll, parse.GetValue(basePort), name, TimeSpan.FromSeconds(parse.GetValue(timeout)),
                extraSiloArgs, ceilingScript, parse.GetValue(ceilingSeconds));
            // Silos started here form their own cluster, named after the bench.
            await using var session = started is null ? new ClientSession(parse.GetValue(CommandFactory.Json)) : ClientSession.ForOwnCluster(parse.GetValue(CommandFactory.Json), name);
            var report = await new BenchRunner(options, session).RunAsync(ct);
            session.Printer.Result(report, console => Print(console, report));
            return report.Ok ? ExitCodes.Ok : ExitCodes.VerificationFailed;
        });
        return command;
    }

    private static void Print(IAnsiConsole console, BenchReport r)
    {
        console.WriteLine($"bench {r.Name}: {r.MessagesPerRun} messages x {r.Rounds} round(s) per mode, {r.Orders} orders, concurrency {r.Concurrency}" +
            $"{(r.Rate is { } rate ? $", offered {rate} msg/s" : "")}, {r.Cores} cores{(r.SilosStarted is { } n ? $", {n} silos started" : "")}");
        var table = new Table().AddColumn("");
        foreach (var m in r.Modes)
        {
            table.AddColumn(new TableColumn(m.Mode).RightAligned());
        }

        void Row(string label, Func<BenchModeSummary, string> cell) => table.AddRow([label, .. r.Modes.Select(cell)]);
        static string Or(double? value) => value is { } v ? $"{v}" : "-";
        Row("msg/s end to end", m => $"{m.Throughput}");
        Row("publish msg/s", m => $"{m.PublishRate}");
        Row("latency p50 ms", m => Or(m.LatencyMs?.P50));
        Row("latency p95 ms", m => Or(m.LatencyMs?.P95));
        Row("latency p99 ms", m => Or(m.LatencyMs?.P99));
        Row("latency max ms", m => Or(m.LatencyMs?.Max));
        Row("silo CPU s / 1,000 msg", m => Or(m.SiloCpuSecondsPer1000));
        Row("PostgreSQL CPU s / 1,000 msg", m => Or(m.DatabaseCpuSecondsPer1000));
        Row("PostgreSQL commits / msg", m => $"{m.CommitsPerMessage}");
        Row("rows written / msg", m => $"{m.RowsWrittenPerMessage}");
        Row("verdict", m => m.Verified ? "[green]OK[/]" : m.Mode == "at-most-once" ? "[yellow]lost some (allowed)[/]" : "[red]FAILED[/]");
        console.Write(table);
        if (r.ExactlyOnceToAtLeastOnce is { } ratio)
        {
            console.WriteLine($"exactly-once / at-least-once throughput: {ratio:0.000}");
        }

        if (r.CeilingMessagesPerSecond is { } ceiling)
        {
            console.WriteLine($"database ceiling (pgbench, same statements, {r.Concurrency} clients): {ceiling:0.0} msg/s; exactly-once reaches {r.ExactlyOnceOfCeiling:0.000} of it");
        }

        if (r.SiloArgs is { Count: > 0 } args)
        {
            console.WriteLine($"silo arguments: {string.Join(' ', args)}");
        }
    }
}
