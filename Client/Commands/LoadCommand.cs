using System.CommandLine;
using System.Diagnostics;
using ExactlyOnce.Client.Runs;
using Spectre.Console;
using ExactlyOnce.Hosting;

namespace ExactlyOnce.Client.Commands;

/// <summary><c>load</c>: publish a workload of adds, with duplicates, and record it as a run.</summary>
public static class LoadCommand
{
    public const int MaxMessages = 1_000_000;

    /// <summary>The bounds of a workload, shared by load and chaos.</summary>
    public static void RequireWorkloadSize(int orders, int items)
    {
        Arguments.RequireRange(orders, 1, 100_000, "--orders");
        Arguments.RequireRange(items, 1, 100_000, "--items");
        Arguments.RequireRange((long)orders * items, 1, MaxMessages, "--orders x --items");
    }

    public static Command Create()
    {
        var orders = new Option<int>("--orders") { Description = "Number of orders.", Required = true };
        var items = new Option<int>("--items") { Description = "Adds per order.", Required = true };
        var duplicates = new Option<double>("--duplicates") { Description = "Fraction 0..1 of messages re-sent with the same id. Default: 0.", DefaultValueFactory = _ => 0 };
        var mode = new Option<string?>("--mode") { Description = "exactly-once (default), at-least-once or at-most-once." };
        var run = new Option<string?>("--run") { Description = "Name to record the run under (default: run-<time>)." };
        var rate = new Option<double?>("--rate") { Description = "Messages per second (default: as fast as possible)." };
        var concurrency = new Option<int>("--concurrency") { Description = "Orders published at once (each order's messages stay in send order). Default: 1.", DefaultValueFactory = _ => 1 };
        var removes = new Option<double>("--removes") { Description = "Fraction 0..1 of commands that remove a filling sent to the order before. Default: 0.", DefaultValueFactory = _ => 0 };
        var command = new Command("load", "Publish orders x items adds, re-sending a fraction with the same id; record the run for 'verify'.")
        {
            orders, items, duplicates, mode, run, rate, removes, concurrency,
        };
        command.SetSessionAction(async (parse, session, ct) =>
        {
            var (o, i, d, r) = (parse.GetValue(orders), parse.GetValue(items), parse.GetValue(duplicates), parse.GetValue(rate));
            RequireWorkloadSize(o, i);
            Arguments.RequireFraction(d, "--duplicates");
            Arguments.RequireFraction(parse.GetValue(removes), "--removes");
            Arguments.RequireRange(parse.GetValue(concurrency), 1, 256, "--concurrency");

            if (r is { } perSecond && (perSecond <= 0 || double.IsNaN(perSecond) || perSecond > 1_000_000))
            {
                throw new UsageException($"--rate must be a positive number of messages per second, not {perSecond}");
            }

            var name = parse.GetValue(run) ?? $"run-{DateTime.UtcNow:yyyyMMdd-HHmmss}";
            RunNames.Require(name);
            var workload = Workload.Create(name, Arguments.ParseMode(parse.GetValue(mode)), o, i, d, seed: Environment.TickCount, removes: parse.GetValue(removes));
            var clock = Stopwatch.StartNew();
            await LoadRunner.RunAsync(session, workload, r, seed: Environment.TickCount, ct, parse.GetValue(concurrency));
            var seconds = clock.Elapsed.TotalSeconds;
            session.Printer.Result(
                new
                {
                    run = name,
                    mode = Arguments.ModeName(workload.Mode),
                    orders = o,
                    items = i,
                    unique = workload.Messages.Count,
                    sent = workload.SentCopies,
                    seconds = Math.Round(seconds, 2),
                },
                console => console.WriteLine(
                    $"run {name}: sent {workload.SentCopies} message(s) ({workload.Messages.Count} unique, {workload.SentCopies - workload.Messages.Count} duplicate copies) " +
                    $"to {o} order(s) in {seconds:0.0} s, mode {Arguments.ModeName(workload.Mode)}; check it with: verify --run {name}"));
            return ExitCodes.Ok;
        });
        return command;
    }
}

/// <summary>Run names become order-id prefixes: keep them short and plain.</summary>
public static class RunNames
{
    public static void Require(string name, string what = "run name")
    {
        if (name.Length is < 1 or > 64 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            throw new UsageException($"bad {what} '{name}': 1 to 64 letters, digits, '-', '_' or '.'");
        }
    }
}
