using System.CommandLine;
using ExactlyOnce.Hosting;

namespace ExactlyOnce.Client.Commands;

/// <summary>The command tree of the client; its exit codes are <see cref="ExitCodes"/>, the silo's too.</summary>
public static class ClientApp
{
    /// <summary>Parses and runs one command line.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand("Client of the exactly-once Orleans sample: drives scenarios on a running cluster.");
        root.Options.Add(CommandFactory.Json);
        root.Subcommands.Add(SendCommands.Create());
        root.Subcommands.Add(ShowCommands.Create());
        root.Subcommands.Add(LoadCommand.Create());
        root.Subcommands.Add(ResendCommand.Create());
        root.Subcommands.Add(VerifyCommand.Create());
        root.Subcommands.Add(FaultsCommands.Create());
        root.Subcommands.Add(DeadLetterCommands.Create());
        root.Subcommands.Add(DemoCommand.Create());
        root.Subcommands.Add(ChaosCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(ProbeCommands.Create());
        root.Subcommands.Add(SilosCommand.Create());

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            // "Unrecognized ..." says more than the "Required command" that comes with it.
            var errors = parse.Errors.Select(e => e.Message).ToList();
            var shown = errors.Where(e => e.StartsWith("Unrecognized", StringComparison.Ordinal)).DefaultIfEmpty(errors[0]);
            Console.Error.WriteLine($"client: {string.Join("; ", shown)} (see --help)");
            return ExitCodes.UsageOrConfiguration;
        }

        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (ProgramException ex)
        {
            // Bad input or configuration (2); PostgreSQL or the cluster unreachable (3).
            Console.Error.WriteLine($"client: {ex.Message}");
            return ex.ExitCode;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("client: interrupted");
            return ExitCodes.Interrupted;
        }
        catch (Exception ex)
        {
            // Anything else (the cluster went away mid-command, say): one line, never a stack trace.
            Console.Error.WriteLine($"client: failed: {ex.GetType().Name}: {ex.Message.Split('\n', 2)[0]}");
            return ExitCodes.RuntimeFailure;
        }
    }
}
