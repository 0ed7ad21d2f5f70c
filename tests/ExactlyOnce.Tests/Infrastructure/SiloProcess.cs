using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace ExactlyOnce.Tests.Infrastructure;

/// <summary>
/// A real silo OS process (ExactlyOnce.Silo.dll run by dotnet), for tests that must crash one:
/// <see cref="KillHard"/> sends SIGKILL, unlike the test host's KillSiloAsync, which stops gracefully.
/// </summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private SiloProcess(Process process, int siloPort, int gatewayPort)
    {
        _process = process;
        SiloPort = siloPort;
        GatewayPort = gatewayPort;
    }

    public int SiloPort { get; }

    public int GatewayPort { get; }

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>"127.0.0.1:port" as it appears in silo addresses.</summary>
    public string Endpoint => $"127.0.0.1:{SiloPort}";

    /// <summary>Everything the process wrote to stdout and stderr so far.</summary>
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

    /// <summary>Path of the silo program built next to this test project.</summary>
    public static string SiloDll => BuiltProgram("Silo", "ExactlyOnce.Silo.dll");

    /// <summary>Path of the client program built next to this test project.</summary>
    public static string ClientDll => BuiltProgram("Client", "ExactlyOnce.Client.dll");

    private static string BuiltProgram(string project, string dll)
    {
        // tests/ExactlyOnce.Tests/bin/<Configuration>/net10.0/ -> <project>/bin/<Configuration>/net10.0/
        var testDir = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = testDir.Parent!.Name;
        var repo = testDir.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
        var path = Path.Combine(repo, project, "bin", configuration, testDir.Name, dll);
        return File.Exists(path) ? path : throw new FileNotFoundException($"{project} build output not found", path);
    }

    /// <summary>
    /// Fault injection on, crash rules included (every silo has it off by default), for the tests
    /// that arm faults; nothing else differs from the defaults.
    /// </summary>
    public static readonly string[] FaultInjectionOn = ["--FaultInjection:Enabled", "true", "--FaultInjection:AllowCrash", "true"];

    /// <summary>Starts a silo with free ports; <paramref name="extraArgs"/> are appended to its command line.</summary>
    public static SiloProcess Start(string connectionString, string clusterId, params string[] extraArgs)
    {
        var siloPort = FreePort();
        var gatewayPort = FreePort();
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(SiloDll);
        foreach (var arg in new[]
                 {
                     "--silo-port", siloPort.ToString(), "--gateway-port", gatewayPort.ToString(),
                     "--connection-string", connectionString, "--cluster-id", clusterId, "--service-id", clusterId,
                 }.Concat(extraArgs))
        {
            info.ArgumentList.Add(arg);
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var silo = new SiloProcess(process, siloPort, gatewayPort);
        process.OutputDataReceived += (_, e) => silo.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => silo.OnLine(e.Data);
        process.Exited += (_, _) => silo._started.TrySetException(new InvalidOperationException("silo exited before it started"));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return silo;
    }

    /// <summary>Waits until the silo printed its started line; throws with its output if it exits or times out.</summary>
    public async Task WaitStartedAsync(TimeSpan timeout)
    {
        try
        {
            await _started.Task.WaitAsync(timeout);
        }
        catch (Exception ex)
        {
            throw new InvalidOperationException($"silo on port {SiloPort} did not start: {ex.Message}\n{Output}", ex);
        }
    }

    /// <summary>Sends SIGKILL: the process dies at once, with no cleanup and no membership update.</summary>
    public void KillHard()
    {
        if (!_process.HasExited)
        {
            if (SysKill(_process.Id, 9) != 0)
            {
                throw new InvalidOperationException($"kill -9 {_process.Id} failed: errno {Marshal.GetLastPInvokeError()}");
            }

            _process.WaitForExit(10_000);
        }
    }

    /// <summary>Sends SIGTERM and waits for a clean exit.</summary>
    public async Task<int> StopGracefullyAsync(TimeSpan timeout)
    {
        if (!_process.HasExited)
        {
            SysKill(_process.Id, 15);
            using var cts = new CancellationTokenSource(timeout);
            await _process.WaitForExitAsync(cts.Token);
        }

        return _process.ExitCode;
    }

    /// <summary>Exit code; valid once <see cref="HasExited"/>.</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>Sends SIGTERM (what `kill` and container runtimes send) without waiting.</summary>
    public void Terminate()
    {
        if (!_process.HasExited && SysKill(_process.Id, 15) != 0)
        {
            throw new InvalidOperationException($"kill -TERM {_process.Id} failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>Sends SIGTERM and waits up to <paramref name="timeout"/>; false if the process is still running then.</summary>
    public async Task<bool> TerminateAsync(TimeSpan timeout)
    {
        Terminate();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return _process.HasExited;
        }
    }

    public async ValueTask DisposeAsync()
    {
        KillHard();
        await Task.CompletedTask;
        _process.Dispose();
    }

    /// <summary>A TCP port that was free a moment ago.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }

        if (line.StartsWith("silo started:", StringComparison.Ordinal))
        {
            _started.TrySetResult();
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SysKill(int pid, int signal);
}
