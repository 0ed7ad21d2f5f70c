using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace ExactlyOnce.Tests.Infrastructure;

/// <summary>
/// A program (<c>dotnet &lt;dll&gt; args</c>) started so that a SIGINT reaches it as Ctrl+C in a terminal
/// does: through <c>env --default-signal=INT</c>. A test run started in the background (a script's
/// <c>&amp;</c>, nohup, some CI runners) ignores SIGINT, every child inherits that, and the .NET runtime
/// then leaves it ignored: without the reset a Ctrl+C test would only measure how the tests were started.
/// <c>env</c> (and <c>setsid</c>) exec the program, so <see cref="Id"/> is the program's own pid.
/// </summary>
public sealed class InterruptibleProgram : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _stderr = new();
    private readonly List<string> _stdoutLines = [];
    private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Seen)> _waiters = [];

    private InterruptibleProgram(Process process) => _process = process;

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Everything written to stdout and stderr so far, interleaved as it arrived.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>What it wrote to stderr so far.</summary>
    public string Stderr
    {
        get
        {
            lock (_output)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>The stdout lines so far.</summary>
    public IReadOnlyList<string> StdoutLines
    {
        get
        {
            lock (_output)
            {
                return [.. _stdoutLines];
            }
        }
    }

    /// <summary>
    /// Starts <c>dotnet <paramref name="dll"/> <paramref name="args"/></c> with extra environment variables;
    /// with <paramref name="ownSession"/>, as the leader of a session and process group of its own
    /// (<c>setsid</c>), like a command in the foreground of a terminal, for <see cref="SignalGroup"/>.
    /// </summary>
    public static InterruptibleProgram Start(string dll, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, bool ownSession = false)
    {
        var info = new ProcessStartInfo(ownSession ? "setsid" : "env") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in (string[])[.. ownSession ? (string[])["env"] : [], "--default-signal=INT", "dotnet", dll, .. args])
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        var program = new InterruptibleProgram(new Process { StartInfo = info });
        program._process.OutputDataReceived += (_, e) => program.OnLine(e.Data, stderr: false);
        program._process.ErrorDataReceived += (_, e) => program.OnLine(e.Data, stderr: true);
        program._process.Start();
        program._process.BeginOutputReadLine();
        program._process.BeginErrorReadLine();
        return program;
    }

    /// <summary>Waits for a stdout line starting with <paramref name="prefix"/>; throws with the output if it exits first or the timeout passes.</summary>
    public async Task<string> WaitForLineAsync(string prefix, TimeSpan timeout)
    {
        var seen = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_output)
        {
            if (_stdoutLines.FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal)) is { } line)
            {
                return line;
            }

            _waiters.Add((l => l.StartsWith(prefix, StringComparison.Ordinal), seen));
        }

        var exited = _process.WaitForExitAsync();
        if (await Task.WhenAny(seen.Task, exited, Task.Delay(timeout)) != seen.Task)
        {
            throw new InvalidOperationException($"no line '{prefix}' within {timeout.TotalSeconds:0} s (exited: {_process.HasExited})\n{Output}");
        }

        return await seen.Task;
    }

    /// <summary>Sends <paramref name="signal"/> (2: SIGINT, 15: SIGTERM) to the program; asserts kill(2) succeeded.</summary>
    public void Signal(int signal) => Assert.True(Kill(_process.Id, signal) == 0, $"kill -{signal} {_process.Id} failed: errno {Marshal.GetLastPInvokeError()}");

    /// <summary>
    /// Sends <paramref name="signal"/> to the program's whole process group, as Ctrl+C in a terminal
    /// does to the foreground command and every process it started (needs <c>ownSession</c>).
    /// </summary>
    public void SignalGroup(int signal) => Assert.True(Kill(-_process.Id, signal) == 0, $"kill -{signal} -{_process.Id} failed: errno {Marshal.GetLastPInvokeError()}");

    /// <summary>Waits up to <paramref name="timeout"/> for the program to exit (its output read to the end); false if it still runs.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(deadline.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }

        _process.Dispose();
    }

    private void OnLine(string? line, bool stderr)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
            if (stderr)
            {
                _stderr.AppendLine(line);
                return;
            }

            _stdoutLines.Add(line);
            foreach (var waiter in _waiters.Where(w => w.Match(line)).ToList())
            {
                _waiters.Remove(waiter);
                waiter.Seen.TrySetResult(line);
            }
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
