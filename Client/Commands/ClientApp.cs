using System.CommandLine;
using System.Runtime.InteropServices;
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

        using var interruption = new Interruption();
        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false }, interruption.Token);
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

/// <summary>
/// Ctrl+C (SIGINT) or SIGTERM cancels the command's token; a second one exits at once with
/// <see cref="ExitCodes.Interrupted"/>. Needed because System.CommandLine 2.0.0 no longer handles
/// the signals unless a ProcessTerminationTimeout is set, and the Orleans client's host
/// (ConsoleLifetime) swallows them: a connected command would otherwise ignore Ctrl+C. Its own
/// timeout is no use here: it ends the process 2 s after the signal, before 'silos' has waited for
/// its silos to stop.
/// </summary>
internal sealed class Interruption : IDisposable
{
    private readonly CancellationTokenSource _cancel = new();
    private readonly PosixSignalRegistration[] _signals;
    private int _count;

    public Interruption() =>
        _signals = [PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal), PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal)];

    public CancellationToken Token => _cancel.Token;

    public void Dispose()
    {
        foreach (var signal in _signals)
        {
            signal.Dispose();
        }

        _cancel.Dispose();
    }

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        if (Interlocked.Increment(ref _count) == 1)
        {
            _cancel.Cancel();
            return;
        }

        Console.Error.WriteLine($"client: second {context.Signal}; exiting now");
        Environment.Exit(ExitCodes.Interrupted);
    }
}
