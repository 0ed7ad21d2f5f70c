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
        root.Subcommands.Add(ProbeCommands.Create());

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            Console.Error.WriteLine($"client: {string.Join("; ", parse.Errors.Select(e => e.Message))} (see --help)");
            return ExitUsageOrConnection;
        }

        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (StartupException ex)
        {
            Console.Error.WriteLine($"client: {ex.Message}");
            return ExitUsageOrConnection;
        }
    }
}
