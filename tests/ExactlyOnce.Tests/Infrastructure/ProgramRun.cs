using System.Diagnostics;

namespace ExactlyOnce.Tests.Infrastructure;

/// <summary>A program run to its end: its exit code and what it wrote to stdout and stderr.</summary>
public sealed record ProgramRun(int ExitCode, string Stdout, string Stderr)
{
    /// <summary>
    /// Runs <paramref name="program"/> with <paramref name="args"/> (and extra environment variables)
    /// and waits for it to exit; past <paramref name="timeout"/> it is killed and a
    /// <see cref="TimeoutException"/> carries what it wrote.
    /// </summary>
    public static async Task<ProgramRun> RunAsync(
        string program, IEnumerable<string> args, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Path.GetFileName(program)} {string.Join(' ', args)} did not exit within {timeout}; stdout:\n{await stdout}\nstderr:\n{await stderr}");
        }

        return new ProgramRun(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>The silo program built next to the tests, run with <paramref name="args"/> (60 s at most).</summary>
    public static Task<ProgramRun> SiloAsync(params IEnumerable<string> args) =>
        RunAsync("dotnet", [RepoPaths.BuiltSiloDll(), .. args], TimeSpan.FromSeconds(60));
}
