using System.Diagnostics;
using ExactlyOnce.Client.Commands;
using ExactlyOnce.Client.Runs;
using ExactlyOnce.Client.Verification;
using ExactlyOnce.Grains;
using ExactlyOnce.Faults;
using ExactlyOnce.Hosting.Processes;
using Npgsql;
using Orleans.Providers.Streams.Common;

namespace ExactlyOnce.Client.Chaos;

/// <summary>
/// Starts silo processes, runs a load, and meanwhile kills a random silo with SIGKILL and starts it
/// again (and optionally restarts PostgreSQL once); then verifies the run.
/// </summary>
public sealed class ChaosRunner(ChaosOptions options, ClientSession session)
{
    private readonly Random _random = new();
    private readonly List<SiloProcess> _silos = [];
    private readonly HashSet<SiloProcess> _restarting = [];
    private int _crashRestarts;
    private int _kills;
    private long _rowsAtFirstKill = -1;
    private double? _frozenSeconds;
    private bool? _zombieExited;

    public async Task<ChaosReport> RunAsync(CancellationToken cancellationToken)
    {
        if (options.RestartDatabase)
        {
            await RequireDurableCommitsAsync(cancellationToken);
        }

        var logs = Path.Combine(Environment.CurrentDirectory, ".runs", "chaos", options.Run);
        Directory.CreateDirectory(logs);
        session.Printer.Note($"chaos {options.Run}: {options.Silos} silos, logs in {logs}");
        string[] siloArgs =
        [
            "--connection-string", session.Cluster.ConnectionString,
            "--cluster-id", session.Cluster.ClusterId, "--service-id", session.Cluster.ServiceId,
            // Nothing else: chaos runs on the stream and messaging defaults a user ships, with fault
            // injection switched on only when --fault asks for faults, and crash rules allowed only
            // when one of them crashes.
            .. options.Faults.Count == 0 ? Array.Empty<string>()
                : options.Faults.Any(f => f.Action == FaultAction.Crash) ? SiloProcess.FaultInjectionOn
                : ["--FaultInjection:Enabled", "true"],
        ];
        // --backlog: the first start keeps the pulling agents stopped, so the whole load waits in the
        // stream table; every later start (after a kill or a crash) has them on.
        string[] firstArgs = options.Backlog ? [.. siloArgs, "--Streams:StartAgents", "false"] : siloArgs;
        for (var i = 0; i < options.Silos; i++)
        {
            _silos.Add(new SiloProcess(options.SiloDll, options.BasePort + 2 * i, options.BasePort + 2 * i + 1, firstArgs, Path.Combine(logs, $"silo{i + 1}.log")));
        }

        try
        {
            await Task.WhenAll(_silos.Select(s => s.StartAsync(TimeSpan.FromSeconds(90), cancellationToken)));
            var client = await session.ClientAsync(cancellationToken);
            var database = await session.DatabaseAsync(cancellationToken);
            var control = client.GetGrain<IFaultControlGrain>(0);
            // Armed now, off during the freeze (InjectChaosAsync): a healthy silo crashing while
            // another is frozen leaves too few voters to declare the frozen one dead.
            async Task SetFaultsAsync(bool on)
            {
                if (options.Faults.Count > 0)
                {
                    await RetryAsync(async () => await FaultsCommands.WaitAppliedAsync(client, await (on ? control.Set(options.Faults) : control.Clear()), cancellationToken), on ? "arming faults" : "clearing faults", cancellationToken);
                    session.Printer.Note(on ? $"faults on: {string.Join(" ", options.Faults)}" : "faults off for the freeze");
                }
            }

            await SetFaultsAsync(on: true);

            using var stopMonitor = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var monitor = RestartCrashedSilosAsync(stopMonitor.Token);

            var workload = Workload.Create(options.Run, options.Mode, options.Orders, options.Items, options.Duplicates, seed: Environment.TickCount, removes: options.Removes);
            var loadClock = Stopwatch.StartNew();
            var load = LoadRunner.RunAsync(session, workload, ratePerSecond: null, seed: Environment.TickCount, cancellationToken)
                .ContinueWith(t => { loadClock.Stop(); return t; }, TaskScheduler.Default).Unwrap();
            long? rowsWhenAgentsStarted = null;
            if (options.Backlog)
            {
                await load;
                rowsWhenAgentsStarted = await CountAsync(database, "SELECT count(*) FROM OrleansStreamMessage WHERE ServiceId = @service", cancellationToken);
                foreach (var silo in _silos)
                {
                    silo.Arguments = siloArgs;
                }

                var management = client.GetGrain<IManagementGrain>(0);
                await RetryAsync(
                    () => management.SendControlCommandToProvider<PersistentStreamProvider>(OrleansNames.StreamProvider, (int)PersistentStreamProviderCommand.StartAgents),
                    "starting the pulling agents", cancellationToken);
                session.Printer.Note($"backlog: {rowsWhenAgentsStarted} stream rows waiting; pulling agents started on every silo");
            }

            var chaosClock = Stopwatch.StartNew();
            var recoveries = await InjectChaosAsync(database, SetFaultsAsync, cancellationToken);
            await load;

            if (options.Faults.Count > 0)
            {
                await RetryAsync(async () => await FaultsCommands.WaitAppliedAsync(client, await control.Clear(), cancellationToken), "clearing faults", cancellationToken);
            }

            // A crashed silo never reports its crash fault (it dies at once): those are counted from its output.
            var reported = await RetryAsync(async () => (await control.Get()).TotalFired, "reading fault counts", cancellationToken);
            var crashed = _silos.Sum(s => CountCrashFaults(s.Output));
            var lastFault = Stopwatch.StartNew();
            session.Printer.Note("chaos over: waiting for the cluster to drain");
            var inspector = new ClusterInspector(client, database, session.ServiceId);
            var report = await inspector.VerifyAsync(workload, options.DrainTimeout, session.Printer.Note, cancellationToken);
            var drained = lastFault.Elapsed.TotalSeconds;
            var sinceChaosStart = chaosClock.Elapsed.TotalSeconds;
            stopMonitor.Cancel();
            await monitor;

            var recoverySeconds = await Task.WhenAll(recoveries);
            var deadLetters = await CountAsync(database, "SELECT count(*) FROM OrleansStreamDeadLetter WHERE ServiceId = @service", cancellationToken);
            var sequencedDeadLetters = await CountAsync(database, "SELECT count(*) FROM ExactlyOnceDeadLetter WHERE ServiceId = @service", cancellationToken);
            var withinBound = report.Quiescent && drained <= options.DrainBound.TotalSeconds;
            return new ChaosReport(
                options.Run, report.Mode, options.Silos, report.Sent, report.Unique, _kills, _crashRestarts,
                options.RestartDatabase ? 1 : 0, reported + crashed, crashed, Math.Round(loadClock.Elapsed.TotalSeconds, 1), Math.Round(drained, 1),
                options.DrainBound.TotalSeconds, recoverySeconds, report.Lost, report.Duplicated, report.Ghost, report.Inconsistent,
                report.Reordered, deadLetters, sequencedDeadLetters, options.Backlog, rowsWhenAgentsStarted, _rowsAtFirstKill,
                Math.Round(sinceChaosStart, 1), _frozenSeconds, _zombieExited, report.Quiescent, withinBound,
                report.Ok && withinBound && deadLetters == 0 && sequencedDeadLetters == 0);
        }
        finally
        {
            await Task.WhenAll(_silos.Select(s => s.StopAsync(TimeSpan.FromSeconds(15))));
        }
    }

    /// <summary>
    /// The kills (and the database restart halfway), with the freeze (--freeze) right after the
    /// first kill (or alone, without kills); returns, per kill, a task measuring its recovery. The
    /// first kill comes --kill-interval after the start, whatever the freeze takes, so it meets the
    /// backlog (a freeze first left the cluster 30 to 90 s to drain it). The faults are off from
    /// just before the freeze until the zombie phase is over (<paramref name="setFaults"/>), so no
    /// crash fault takes down a healthy silo while another one is frozen.
    /// </summary>
    private async Task<List<Task<double?>>> InjectChaosAsync(NpgsqlDataSource database, Func<bool, Task> setFaults, CancellationToken cancellationToken)
    {
        var recoveries = new List<Task<double?>>();
        var restarts = new List<Task>();
        var freezeAfterKill = options.Freeze is null ? -1 : Math.Min(1, options.Kills);
        if (freezeAfterKill == 0)
        {
            await setFaults(false);
            await FreezeOneAsync(database, options.Freeze!.Value, cancellationToken);
            await setFaults(true);
        }

        for (var kill = 1; kill <= options.Kills; kill++)
        {
            await Task.Delay(options.KillInterval, cancellationToken);
            // Never kill the last one standing: wait until two silos are up (not dead, not still
            // starting after an earlier kill), and kill one of them.
            var waited = Stopwatch.StartNew();
            List<SiloProcess> victims;
            while (true)
            {
                lock (_restarting)
                {
                    victims = _silos.Where(s => s.IsRunning && !_restarting.Contains(s)).ToList();
                }

                if (victims.Count >= 2 || waited.Elapsed >= TimeSpan.FromMinutes(2))
                {
                    break;
                }

                await Task.Delay(250, cancellationToken);
            }

            if (victims.Count < 2)
            {
                session.Printer.Note($"kill {kill}: skipped, fewer than two silos up after 2 minutes");
            }
            else
            {
                var (recovery, restart) = await KillOneAsync(kill, victims, database, cancellationToken);
                recoveries.Add(recovery);
                restarts.Add(restart);
            }

            if (options.RestartDatabase && kill == Math.Max(1, options.Kills / 2))
            {
                await RestartDatabaseAsync(cancellationToken);
            }

            if (kill == freezeAfterKill)
            {
                await setFaults(false);
                await FreezeOneAsync(database, options.Freeze!.Value, cancellationToken);
                await setFaults(true);
            }
        }

        await Task.WhenAll(restarts);
        return recoveries;
    }

    /// <summary>kill -9 of a random one of <paramref name="victims"/>; returns the task measuring its recovery and the one starting it again.</summary>
    private async Task<(Task<double?> Recovery, Task Restart)> KillOneAsync(int kill, List<SiloProcess> victims, NpgsqlDataSource database, CancellationToken cancellationToken)
    {
        var victim = victims[_random.Next(victims.Count)];
        var inFlight = await InFlightAsync(database, cancellationToken);
        if (kill == 1)
        {
            _rowsAtFirstKill = await TryCountAsync(database, "SELECT count(*) FROM OrleansStreamMessage WHERE ServiceId = @service", cancellationToken);
        }

        session.Printer.Note($"kill {kill}/{options.Kills}: kill -9 silo on port {victim.SiloPort} (pid {victim.ProcessId}), {inFlight.Count} message(s) in flight");
        victim.KillHard();
        _kills++;
        // Started again in the background: the next kill comes --kill-interval after this one,
        // however long the start takes on a busy machine.
        return (MeasureRecoveryAsync(database, inFlight, cancellationToken), RestartKilledAsync(victim, cancellationToken));
    }

    /// <summary>A killed silo is started again on its ports after --restart-delay.</summary>
    private async Task RestartKilledAsync(SiloProcess victim, CancellationToken cancellationToken)
    {
        lock (_restarting)
        {
            _restarting.Add(victim);
        }

        try
        {
            await Task.Delay(options.RestartDelay, cancellationToken);
            await victim.StartAsync(TimeSpan.FromSeconds(90), cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // It died while starting (a crash fault during recovery): the monitor starts it again.
            session.Printer.Note($"restart of the silo on port {victim.SiloPort} failed, the monitor retries: {ex.Message}");
        }
        finally
        {
            lock (_restarting)
            {
                _restarting.Remove(victim);
            }
        }
    }

    /// <summary>
    /// SIGSTOP of one random silo for <paramref name="freeze"/> (longer than failure detection: the
    /// others declare it dead and take its queues and grains), then SIGCONT: the zombie wakes up with
    /// its rows, activations and connections, and learns it was declared dead.
    /// </summary>
    private async Task FreezeOneAsync(NpgsqlDataSource database, TimeSpan freeze, CancellationToken cancellationToken)
    {
        await Task.Delay(options.KillInterval, cancellationToken);
        // Every silo up first (one killed just before is starting again): with one silo frozen, the
        // others must be there to vote it dead.
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromMinutes(2) && !AllUp())
        {
            await Task.Delay(250, cancellationToken);
        }

        var running = _silos.Where(s => s.IsRunning).ToList();
        var zombie = running[_random.Next(running.Count)];
        var pid = zombie.ProcessId;
        var inFlight = await InFlightAsync(database, cancellationToken);
        session.Printer.Note($"freeze: SIGSTOP silo on port {zombie.SiloPort} (pid {pid}) for {freeze.TotalSeconds} s, {inFlight.Count} message(s) in flight");
        zombie.Freeze();
        await Task.Delay(freeze, cancellationToken);
        zombie.Thaw();
        _frozenSeconds = freeze.TotalSeconds;
        session.Printer.Note($"freeze: SIGCONT silo on port {zombie.SiloPort} (pid {pid})");
        // Orleans makes a silo that finds itself declared dead stop; the monitor starts it again.
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(60) && zombie.IsRunning && zombie.ProcessId == pid)
        {
            await Task.Delay(250, cancellationToken);
        }

        _zombieExited = !(zombie.IsRunning && zombie.ProcessId == pid);
        session.Printer.Note(_zombieExited.Value
            ? $"freeze: the zombie (pid {pid}) exited {watch.Elapsed.TotalSeconds:0.0} s after SIGCONT"
            : $"freeze: the zombie (pid {pid}) is still running 60 s after SIGCONT");
    }

    private bool AllUp()
    {
        lock (_restarting)
        {
            return _restarting.Count == 0 && _silos.All(s => s.IsRunning);
        }
    }

    /// <summary>
    /// <c>--restart-db</c> crashes PostgreSQL (an immediate restart). With synchronous_commit off,
    /// PostgreSQL acknowledges commits before it writes them and loses the last ones in a crash; a
    /// run would count that loss against the protocol, so it is refused before anything starts.
    /// </summary>
    private async Task RequireDurableCommitsAsync(CancellationToken cancellationToken)
    {
        var database = await session.DatabaseAsync(cancellationToken);
        await using var command = database.CreateCommand("SHOW synchronous_commit");
        if (await command.ExecuteScalarAsync(cancellationToken) is "off")
        {
            throw new UsageException("--restart-db crashes PostgreSQL, which loses acknowledged commits while synchronous_commit is off: turn it on for the run (scripts/pg.sh keeps it on) or leave out --restart-db");
        }
    }

    private async Task RestartDatabaseAsync(CancellationToken cancellationToken)
    {
        var command = options.DatabaseRestartCommand ?? throw new UsageException("no database restart command (see --db-restart-command)");
        session.Printer.Note($"restarting PostgreSQL: {command}");
        var info = new ProcessStartInfo("bash") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(command);
        info.Environment["PG_RESTART_MODE"] = "immediate";
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.StandardOutput.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"database restart failed ({process.ExitCode}): {(await stderr).Trim()}");
        }
    }

    /// <summary>The lines a silo wrote, over all its lives, as it was killed by a crash fault.</summary>
    public static int CountCrashFaults(string output) =>
        output.Split('\n').Count(line => line.StartsWith(FaultInjector.CrashLinePrefix, StringComparison.Ordinal));

    /// <summary>Silos that died by themselves (crash faults) are started again, like the killed ones.</summary>
    private async Task RestartCrashedSilosAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
                foreach (var silo in _silos.Where(s => !s.IsRunning && s.ProcessId != 0).ToList())
                {
                    await Task.Delay(options.RestartDelay, cancellationToken);
                    bool killedHere;
                    lock (_restarting)
                    {
                        killedHere = _restarting.Contains(silo);
                    }

                    if (!silo.IsRunning && !killedHere)
                    {
                        _crashRestarts++;
                        session.Printer.Note($"silo on port {silo.SiloPort} died by itself (crash fault): starting it again");
                        await silo.StartAsync(TimeSpan.FromSeconds(90), cancellationToken);
                    }
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception ex)
            {
                // A start raced with a kill: try again on the next round.
                session.Printer.Note($"restart failed, will retry: {ex.Message}");
            }
        }
    }

    /// <summary>Messages handed out to a silo and not yet confirmed.</summary>
    private async Task<HashSet<long>> InFlightAsync(NpgsqlDataSource database, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand(
            "SELECT MessageId FROM OrleansStreamMessage WHERE ServiceId = @service AND ClaimedBy IS NOT NULL AND VisibleOn > now()");
        command.Parameters.AddWithValue("service", session.ServiceId);
        var ids = new HashSet<long>();
        try
        {
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                ids.Add(reader.GetInt64(0));
            }
        }
        catch (NpgsqlException)
        {
            // The database may be restarting: measure nothing for this kill.
        }

        return ids;
    }

    /// <summary>Seconds until every message that was in flight at the kill has been processed (confirmed).</summary>
    private async Task<double?> MeasureRecoveryAsync(NpgsqlDataSource database, HashSet<long> inFlight, CancellationToken cancellationToken)
    {
        if (inFlight.Count == 0)
        {
            return null;
        }

        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromMinutes(5))
        {
            await Task.Delay(250, cancellationToken);
            try
            {
                await using var command = database.CreateCommand("SELECT count(*) FROM OrleansStreamMessage WHERE ServiceId = @service AND MessageId = ANY(@ids)");
                command.Parameters.AddWithValue("service", session.ServiceId);
                command.Parameters.AddWithValue("ids", inFlight.ToArray());
                if ((long)(await command.ExecuteScalarAsync(cancellationToken))! == 0)
                {
                    return Math.Round(clock.Elapsed.TotalSeconds, 1);
                }
            }
            catch (NpgsqlException)
            {
                // The database may be restarting.
            }
        }

        return null;
    }

    /// <summary>Grain calls while silos die and come back: retried for up to two minutes.</summary>
    private async Task<T> RetryAsync<T>(Func<Task<T>> call, string what, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (true)
        {
            try
            {
                return await call();
            }
            catch (Exception ex) when (ex is not OperationCanceledException && DateTime.UtcNow < deadline)
            {
                session.Printer.Note($"{what} failed, retrying: {ex.Message.Split('\n', 2)[0]}");
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
        }
    }

    private async Task<long> TryCountAsync(NpgsqlDataSource database, string sql, CancellationToken cancellationToken)
    {
        try
        {
            return await CountAsync(database, sql, cancellationToken);
        }
        catch (NpgsqlException)
        {
            return -1;
        }
    }

    private async Task<long> CountAsync(NpgsqlDataSource database, string sql, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand(sql);
        command.Parameters.AddWithValue("service", session.ServiceId);
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}
