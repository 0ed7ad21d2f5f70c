using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using CliWrap;

namespace ExactlyOnce.Hosting.Processes;

/// <summary>
/// A silo as a real OS process (<c>dotnet ExactlyOnce.Silo.dll</c>), for whatever must crash,
/// freeze or restart one: the tests, the chaos runner and the benchmark. Its output is kept (and
/// appended to a log file when one is given); it counts as started once it prints its
/// "silo started:" line. Signals are real: <see cref="KillHard"/> is SIGKILL (no cleanup, no
/// membership update), <see cref="Freeze"/> SIGSTOP, <see cref="Terminate"/> SIGTERM. It can be
/// started again on the same ports after it died. With <c>httpPort</c> it gets <c>--http-port</c>;
/// without, the silo derives its HTTP port from its silo port (or the program has none).
/// </summary>
public sealed class SiloProcess(string siloDll, int siloPort, int gatewayPort, IReadOnlyList<string> arguments, string? logPath = null, int? httpPort = null) : IAsyncDisposable
{
    private const string StartedLine = "silo started:";
    private readonly StringBuilder _output = new();
    private readonly object _logLock = new();
    private CommandTask<CommandResult>? _run;
    private TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private StreamWriter? _log;

    /// <summary>
    /// Start the process in a session and process group of its own (<c>setsid</c>), so that signals
    /// a terminal sends to the starting program's group (Ctrl+C, hangup) do not reach it: the starting
    /// program passes them on, once. The default (false) shares the starter's group.
    /// </summary>
    public bool OwnSession { get; init; }

    /// <summary>The command line after the ports; a change applies to the next start.</summary>
    public IReadOnlyList<string> Arguments { get; set; } = arguments;

    public int SiloPort => siloPort;

    public int GatewayPort => gatewayPort;

    /// <summary>The port given with --http-port, if any.</summary>
    public int? HttpPort => httpPort;

    /// <summary>http://127.0.0.1:port of the silo's HTTP endpoint; throws when no HTTP port was given.</summary>
    public Uri HttpBase => new($"http://127.0.0.1:{httpPort ?? throw new InvalidOperationException("this silo process was started without --http-port")}");

    /// <summary>"127.0.0.1:port" as it appears in silo addresses.</summary>
    public string Endpoint => $"127.0.0.1:{siloPort}";

    /// <summary>The process id of the current (or last) run; 0 before the first start.</summary>
    public int ProcessId => _run?.ProcessId ?? 0;

    public bool IsRunning => _run is { Task.IsCompleted: false };

    public bool HasExited => _run is { Task.IsCompleted: true };

    /// <summary>Exit code of the last run; valid once <see cref="HasExited"/>.</summary>
    public int ExitCode => _run is { Task.IsCompletedSuccessfully: true } run ? run.Task.Result.ExitCode
        : throw new InvalidOperationException("the silo process has not exited");

    /// <summary>Everything the process wrote to stdout and stderr, over all its runs.</summary>
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

    /// <summary>Fault injection on, crash rules included (every silo has it off by default): for the silos of tests and chaos runs that arm faults.</summary>
    public static readonly IReadOnlyList<string> FaultInjectionOn = ["--FaultInjection:Enabled", "true", "--FaultInjection:AllowCrash", "true"];

    /// <summary>
    /// Starts the silo built next to the running program on free silo, gateway and HTTP ports, with the connection
    /// string, cluster id and service id given, then <paramref name="extraArgs"/>; does not wait
    /// for it (see <see cref="WaitStartedAsync"/>).
    /// </summary>
    public static SiloProcess Start(string connectionString, string clusterId, params IEnumerable<string> extraArgs)
    {
        var silo = new SiloProcess(RepoPaths.BuiltSiloDll(), FreePort(), FreePort(),
            ["--connection-string", connectionString, "--cluster-id", clusterId, "--service-id", clusterId, .. extraArgs],
            httpPort: FreePort());
        silo.Launch();
        return silo;
    }

    /// <summary>Starts the process and waits for its started line; throws with its output if it exits first or the timeout passes.</summary>
    public async Task StartAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        await WaitForFreePortsAsync(cancellationToken);
        Launch();
        await WaitStartedAsync(timeout, cancellationToken);
    }

    /// <summary>Waits for the started line of the current run.</summary>
    public async Task WaitStartedAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        try
        {
            await _started.Task.WaitAsync(timeout, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw new InvalidOperationException($"silo on port {siloPort} did not start: {ex.Message}{(logPath is null ? "" : $" (log: {logPath})")}\n{Tail(Output, 60)}", ex);
        }
    }

    /// <summary>SIGKILL, then waits (10 s at most) for the process to be gone.</summary>
    public void KillHard()
    {
        if (Signal(9))
        {
            _run!.Task.Wait(TimeSpan.FromSeconds(10));
        }
    }

    /// <summary>SIGSTOP: frozen (no heartbeats, no polling; its leases and sockets kept).</summary>
    public void Freeze() => Signal(19);

    /// <summary>SIGCONT: a frozen process runs on from where it stopped.</summary>
    public void Thaw() => Signal(18);

    /// <summary>SIGTERM (what `kill` and container runtimes send), without waiting.</summary>
    public void Terminate() => Signal(15);

    /// <summary>SIGTERM, then waits up to <paramref name="timeout"/>; false if the process still runs then.</summary>
    public async Task<bool> TerminateAsync(TimeSpan timeout)
    {
        Terminate();
        return await WaitForExitAsync(timeout);
    }

    /// <summary>SIGTERM, then SIGKILL if the process has not exited within <paramref name="grace"/>.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (!await TerminateAsync(grace))
        {
            KillHard();
        }
    }

    public async ValueTask DisposeAsync()
    {
        KillHard();
        if (_run is not null)
        {
            await Task.WhenAny(_run.Task, Task.Delay(TimeSpan.FromSeconds(10)));
        }

        lock (_logLock)
        {
            _log?.Dispose();
            _log = null;
        }
    }

    /// <summary>A TCP port that was free a moment ago.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void Launch()
    {
        if (IsRunning)
        {
            throw new InvalidOperationException($"the silo on port {siloPort} is already running (pid {ProcessId})");
        }

        if (logPath is not null)
        {
            lock (_logLock)
            {
                _log ??= new StreamWriter(logPath, append: true, Encoding.UTF8) { AutoFlush = true };
            }
        }

        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _started = started;
        var output = PipeTarget.ToDelegate(line => OnLine(line, started));
        string[] command = [siloDll, "--silo-port", $"{siloPort}", "--gateway-port", $"{gatewayPort}", .. HttpArguments, .. Arguments];
        // setsid execs the program (its child is no group leader), so the pid stays the silo's.
        _run = Cli.Wrap(OwnSession ? "setsid" : "dotnet")
            .WithArguments(OwnSession ? ["dotnet", .. command] : command)
            .WithStandardOutputPipe(output)
            .WithStandardErrorPipe(output)
            .WithValidation(CommandResultValidation.None)
            .ExecuteAsync();
        _run.Task.ContinueWith(
            t => started.TrySetException(new InvalidOperationException($"it exited (code {(t.IsCompletedSuccessfully ? t.Result.ExitCode : -1)}) before it started")),
            TaskScheduler.Default);
    }

    private IEnumerable<string> HttpArguments => httpPort is { } port ? ["--http-port", $"{port}"] : [];

    private void OnLine(string line, TaskCompletionSource started)
    {
        lock (_output)
        {
            _output.AppendLine(line);
        }

        lock (_logLock)
        {
            _log?.WriteLine(line);
        }

        if (line.StartsWith(StartedLine, StringComparison.Ordinal))
        {
            started.TrySetResult();
        }
    }

    /// <summary>Waits (15 s at most) until its ports can be bound: a silo killed a moment ago may still hold them.</summary>
    private async Task WaitForFreePortsAsync(CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            var busy = new[] { siloPort, gatewayPort, httpPort ?? 0 }.Where(p => p != 0 && !CanBind(p)).ToList();
            if (busy.Count == 0)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"cannot start a silo: port {string.Join(" and ", busy)} is in use by another process");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken);
        }
    }

    private static bool CanBind(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Any, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Waits up to <paramref name="timeout"/> for the process to exit; true when it has (or never ran).</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        if (_run is null)
        {
            return true;
        }

        await Task.WhenAny(_run.Task, Task.Delay(timeout));
        return _run.Task.IsCompleted;
    }

    /// <summary>Sends a signal to the running process; false when there is none.</summary>
    private bool Signal(int signal)
    {
        if (_run is not { Task.IsCompleted: false } run)
        {
            return false;
        }

        if (SysKill(run.ProcessId, signal) != 0 && !run.Task.IsCompleted)
        {
            throw new InvalidOperationException($"kill -{signal} {run.ProcessId} failed: errno {Marshal.GetLastPInvokeError()}");
        }

        return true;
    }

    private static string Tail(string text, int lines)
    {
        var all = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)));
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SysKill(int pid, int signal);
}
