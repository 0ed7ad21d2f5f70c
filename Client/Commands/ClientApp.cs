using System.CommandLine;
using ExactlyOnce.Hosting;

namespace ExactlyOnce.Client.Commands;

/// <summary>The command tree of the client and its exit codes.</summary>
public static class ClientApp
{
    /// <summary>Success.</summary>
    public const int ExitOk = 0;

    /// <summary>A verification found lost, duplicated, ghost or inconsistent messages.</summary>
    public const int ExitVerificationFailed = 1;

    /// <summary>Bad usage, bad configuration, or no cluster reachable.</summary>
    public const int ExitUsageOrConnection = 2;

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
            return ExitUsageOrConnection;
        }

        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception ex) when (ex is StartupException or UsageException)
        {
            Console.Error.WriteLine($"client: {ex.Message}");
            return ExitUsageOrConnection;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("client: cancelled");
            return ExitUsageOrConnection;
        }
        catch (Exception ex)
        {
            // Anything else (the cluster went away mid-command, say): one line, never a stack trace.
            Console.Error.WriteLine($"client: failed: {ex.GetType().Name}: {ex.Message.Split('\n', 2)[0]}");
            return ExitUsageOrConnection;
        }
    }
}
