using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace ExactlyOnce.Client.Chaos;

/// <summary>
/// A silo OS process started by the chaos runner on fixed ports, so that it can be killed with
/// SIGKILL and started again in the same place.
/// </summary>
public sealed class ManagedSilo(string siloDll, int siloPort, int gatewayPort, IReadOnlyList<string> args, string logPath)
{
    private Process? _process;

    /// <summary>The silo's command line after the ports; a change applies to the next start.</summary>
    public IReadOnlyList<string> Arguments { get; set; } = args;

    public int SiloPort => siloPort;

    public int ProcessId => _process?.Id ?? 0;

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Starts the process and waits for its "silo started" line.</summary>
    public async Task StartAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(siloDll);
        foreach (var arg in new[] { "--silo-port", $"{siloPort}", "--gateway-port", $"{gatewayPort}" }.Concat(Arguments))
        {
            info.ArgumentList.Add(arg);
        }

        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var log = new StreamWriter(logPath, append: true, Encoding.UTF8) { AutoFlush = true };
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        void OnLine(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (log)
            {
                log.WriteLine(line);
            }

            if (line.StartsWith("silo started:", StringComparison.Ordinal))
            {
                started.TrySetResult();
            }
        }

        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.Exited += (_, _) => started.TrySetException(new InvalidOperationException($"silo on port {siloPort} exited before it started (log: {logPath})"));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        await started.Task.WaitAsync(timeout, cancellationToken);
    }

    /// <summary>kill -9: the process dies at once, no cleanup, no membership update.</summary>
    public void KillHard()
    {
        if (_process is { HasExited: false } process)
        {
            _ = SysKill(process.Id, 9);
            process.WaitForExit(10_000);
        }
    }

    /// <summary>SIGSTOP: the process is frozen (a zombie: no heartbeats, no polling, its leases and sockets kept).</summary>
    public void Freeze()
    {
        if (_process is { HasExited: false } process)
        {
            _ = SysKill(process.Id, 19);
        }
    }

    /// <summary>SIGCONT: a frozen process runs again from where it stopped.</summary>
    public void Thaw()
    {
        if (_process is { HasExited: false } process)
        {
            _ = SysKill(process.Id, 18);
        }
    }

    /// <summary>SIGTERM, then SIGKILL if it does not exit in time.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (_process is { HasExited: false } process)
        {
            _ = SysKill(process.Id, 15);
            using var timeout = new CancellationTokenSource(grace);
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                KillHard();
            }
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SysKill(int pid, int signal);
}
