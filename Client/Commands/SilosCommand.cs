using System.CommandLine;
using System.Runtime.InteropServices;
using ExactlyOnce.Hosting;
using ExactlyOnce.Hosting.Processes;

namespace ExactlyOnce.Client.Commands;

/// <summary>
/// <c>silos [--count N]</c>: runs silo processes of the configured cluster in the foreground (the
/// demo scripts use it; so can a user trying things by hand), through the same
/// <see cref="SiloProcess"/> as the tests, the chaos runner and the bench: ports checked free before
/// start, the started line awaited, each silo's output in its own log. Ctrl+C, SIGTERM or a hangup
/// sends every silo SIGTERM, and they stop gracefully.
/// </summary>
public static class SilosCommand
{
    /// <summary>The line printed once every silo started (scripts wait for it).</summary>
    public const string AllStarted = "all silos started";

    public static Command Create()
    {
        var count = new Option<int>("--count") { Description = "Silo processes to run (1-9). Default: 2.", DefaultValueFactory = _ => 2 };
        var siloPort = new Option<int>("--silo-port") { Description = "Silo port of the first silo; the others count up from it. Default: 11111.", DefaultValueFactory = _ => 11111 };
        var gatewayPort = new Option<int>("--gateway-port") { Description = "Gateway port of the first silo; the others count up from it. Default: 30001.", DefaultValueFactory = _ => 30001 };
        var faults = new Option<bool>("--fault-injection") { Description = "Start them with FaultInjection:Enabled, so 'faults set' and 'demo' may arm throw and poison rules (never crash rules)." };
        var logs = new Option<string>("--logs") { Description = "Folder of the silo logs (silo1.log, ...). Default: .runs/silos.", DefaultValueFactory = _ => Path.Combine(".runs", "silos") };
        var siloDll = new Option<string?>("--silo-dll") { Description = "Path of ExactlyOnce.Silo.dll. Default: the one built next to this client." };
        var command = new Command("silos", $"Run silo processes of the configured cluster until Ctrl+C or SIGTERM, then stop them gracefully. Prints each silo's pid, ports and log, then '{AllStarted}'.")
        {
            count, siloPort, gatewayPort, faults, logs, siloDll,
        };
        command.SetSessionAction(async (parse, session, ct) =>
        {
            var n = parse.GetValue(count);
            var firstSilo = parse.GetValue(siloPort);
            var firstGateway = parse.GetValue(gatewayPort);
            if (n is < 1 or > 9)
            {
                throw new UsageException($"--count must be between 1 and 9, not {n}");
            }

            foreach (var (name, first) in new[] { ("--silo-port", firstSilo), ("--gateway-port", firstGateway) })
            {
                if (first < 1 || first + n - 1 > 65535)
                {
                    throw new UsageException($"{name} {first}: the ports of {n} silos must lie in 1-65535");
                }
            }

            var dll = ClientPrograms.RequireSiloDll(parse.GetValue(siloDll));
            var folder = Path.GetFullPath(parse.GetValue(logs)!);
            Directory.CreateDirectory(folder);
            var cluster = session.Cluster;
            string[] args =
            [
                "--connection-string", cluster.ConnectionString, "--cluster-id", cluster.ClusterId, "--service-id", cluster.ServiceId,
                .. parse.GetValue(faults) ? (string[])["--FaultInjection:Enabled", "true"] : [],
            ];
            var silos = Enumerable.Range(0, n)
                .Select(i => new SiloProcess(dll, firstSilo + i, firstGateway + i, args, Path.Combine(folder, $"silo{i + 1}.log")) { OwnSession = true })
                .ToList();
            // SIGTERM, Ctrl+C and a hangup go on to every silo at once as SIGTERM, from the signal
            // handler itself (ClientApp's Interruption cancels ct on the same signal, which only stops
            // a start still under way). The silos run in sessions of their own: Ctrl+C in the terminal
            // reaches only this command, else each silo would get it and then our SIGTERM, a second
            // signal that cuts its stop short. Apart, they no longer get the terminal's hangup either:
            // it is passed on too.
            var stopped = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
            void Forward(PosixSignalContext context)
            {
                context.Cancel = true;
                silos.ForEach(s => s.Terminate());
                // As the silo itself: SIGTERM is a normal stop (0), Ctrl+C an interruption (130).
                stopped.TrySetResult(context.Signal == PosixSignal.SIGINT ? ExitCodes.Interrupted : ExitCodes.Ok);
            }

            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Forward);
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Forward);
            using var sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, Forward);
            try
            {
                await Task.WhenAll(silos.Select(s => s.StartAsync(TimeSpan.FromSeconds(90), ct)));
                for (var i = 0; i < n; i++)
                {
                    Console.WriteLine($"silo {i + 1}: pid {silos[i].ProcessId} silo port {silos[i].SiloPort} gateway {silos[i].GatewayPort} log {Path.Combine(folder, $"silo{i + 1}.log")}");
                }

                Console.WriteLine(AllStarted);
                // Not WaitAsync(ct): the same signal cancels ct, and the exit code is Forward's.
                return await stopped.Task;
            }
            finally
            {
                if (!stopped.Task.IsCompleted)
                {
                    silos.ForEach(s => s.Terminate()); // a silo that failed to start, say: the others stop too
                }

                // A second SIGTERM would cut a silo's graceful stop short: wait only.
                await Task.WhenAll(silos.Select(s => s.WaitForExitAsync(TimeSpan.FromSeconds(30))));
                foreach (var silo in silos)
                {
                    await silo.DisposeAsync();
                }
            }
        });
        return command;
    }
}
