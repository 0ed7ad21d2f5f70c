using System.Runtime.InteropServices;
using ExactlyOnce.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ExactlyOnce.Silo;

/// <summary>
/// Bounds the silo's stop. Once stopping begins (SIGTERM, SIGINT/Ctrl+C, SIGQUIT or a stop request),
/// the graceful stop has <c>Silo:ShutdownTimeout</c>; if it has not finished by then, or a second
/// signal arrives meanwhile, the process writes one line, flushes its output and exits with
/// <see cref="TimedOutExitCode"/>.
/// </summary>
/// <remarks>
/// Needed because the host waits for its hosted services without a limit: the timeout only cancels
/// their token. Orleans' membership agent ignores it when the database is gone: on the way down it
/// retries writing its own row as Dead (MembershipAgent.BecomeDead -> MembershipTableManager.UpdateStatus)
/// until the table answers, so without this guard such a silo never exits.
/// </remarks>
public sealed class ShutdownGuard : IDisposable
{
    /// <summary>Exit code when the stop was cut short (timeout or second signal): a runtime failure.</summary>
    public const int TimedOutExitCode = ExitCodes.RuntimeFailure;

    private readonly TimeSpan _timeout;
    private readonly IHost _host;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly List<PosixSignalRegistration> _signals = [];
    private readonly CancellationTokenRegistration _stopping;
    private ITimer? _deadline;
    private int _signalCount;
    private int _exiting;
    private volatile bool _interrupted;

    public ShutdownGuard(IHost host, TimeSpan timeout)
    {
        _host = host;
        _timeout = timeout;
        _lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
        _stopping = _lifetime.ApplicationStopping.Register(StartDeadline);
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGQUIT })
        {
            _signals.Add(PosixSignalRegistration.Create(signal, OnSignal));
        }
    }

    /// <summary>
    /// The exit code of a stop that finished in time: <see cref="ExitCodes.Interrupted"/> when
    /// SIGINT (Ctrl+C) started it, <see cref="ExitCodes.Ok"/> otherwise (SIGTERM, SIGQUIT, a stop request).
    /// </summary>
    public int ExitCode => _interrupted ? ExitCodes.Interrupted : ExitCodes.Ok;

    public void Dispose()
    {
        _stopping.Dispose();
        foreach (var signal in _signals)
        {
            signal.Dispose();
        }

        _deadline?.Dispose();
    }

    private void OnSignal(PosixSignalContext context)
    {
        // Never the runtime's default (immediate termination without flushing): the first signal
        // starts the graceful stop, the second ends the process at once, both through us.
        context.Cancel = true;
        if (Interlocked.Increment(ref _signalCount) == 1)
        {
            _interrupted = context.Signal == PosixSignal.SIGINT;
            _lifetime.StopApplication();
            return;
        }

        Exit($"second {context.Signal} during shutdown; exiting now");
    }

    private void StartDeadline() =>
        _deadline = TimeProvider.System.CreateTimer(
            _ => Exit($"graceful shutdown did not finish within {Seconds(_timeout)}; exiting"),
            null, _timeout, Timeout.InfiniteTimeSpan);

    private void Exit(string line)
    {
        if (Interlocked.Exchange(ref _exiting, 1) == 1)
        {
            return;
        }

        FlushLogs();
        Console.Out.Flush();
        Console.Error.WriteLine($"silo: {line}");
        Console.Error.Flush();
        Environment.Exit(TimedOutExitCode);
    }

    /// <summary>
    /// The console logger writes from a queue; disposing the logger factory drains it (the console
    /// provider waits up to 1.5 s). Bounded, in case a provider hangs.
    /// </summary>
    private void FlushLogs()
    {
        try
        {
            var factory = _host.Services.GetService<ILoggerFactory>();
            if (factory is not null)
            {
                Task.Run(factory.Dispose).Wait(TimeSpan.FromSeconds(3));
            }
        }
        catch (Exception)
        {
            // Exiting anyway; the line below still goes out.
        }
    }

    private static string Seconds(TimeSpan timeout) =>
        timeout.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture) + "s";
}
