using System.CommandLine;
using ExactlyOnce.Faults;
using Spectre.Console;
using ExactlyOnce.Hosting;

namespace ExactlyOnce.Client.Commands;

/// <summary><c>faults set|clear|show</c>: the cluster-wide fault rules, at run time.</summary>
public static class FaultsCommands
{
    public static Command Create()
    {
        var faults = new Command("faults", $"Inject faults cluster-wide at run time. Points: {string.Join(", ", FaultPoints.All)}.");

        var rules = new Argument<string[]>("rules") { Description = "point=probability[:throw|poison|crash][@message-id|@component] ...", Arity = ArgumentArity.OneOrMore };
        var set = new Command("set", "Arm these rules on every silo (replacing earlier run-time rules).") { rules };
        set.SetSessionAction(async (parse, session, ct) =>
        {
            var parsed = parse.GetValue(rules)!.Select(Arguments.ParseFaultRule).ToList();
            var client = await session.ClientAsync(ct);
            var version = await RefusedAsUsageAsync(() => client.GetGrain<IFaultControlGrain>(0).Set(parsed));
            return await ReportAsync(session, client, version, ct);
        });

        var clear = new Command("clear", "Switch every fault off on every silo.");
        clear.SetSessionAction(async (_, session, ct) =>
        {
            var client = await session.ClientAsync(ct);
            var version = await RefusedAsUsageAsync(() => client.GetGrain<IFaultControlGrain>(0).Clear());
            return await ReportAsync(session, client, version, ct);
        });

        var show = new Command("show", "The run-time rules, which silo applied them and how many faults fired.");
        show.SetSessionAction(async (_, session, ct) =>
        {
            var client = await session.ClientAsync(ct);
            var snapshot = await client.GetGrain<IFaultControlGrain>(0).Get();
            Print(session, snapshot, applied: true);
            return ExitCodes.Ok;
        });

        faults.Subcommands.Add(set);
        faults.Subcommands.Add(clear);
        faults.Subcommands.Add(show);
        return faults;
    }

    /// <summary>A cluster that refuses the rules (fault injection off, or crash not allowed) is a usage error: one line, exit 2.</summary>
    public static async Task<int> RefusedAsUsageAsync(Func<Task<int>> call)
    {
        try
        {
            return await call();
        }
        catch (FaultInjectionRefusedException ex)
        {
            throw new UsageException(ex.Message);
        }
    }

    /// <summary>Waits until every active silo applied <paramref name="version"/> (silos poll each second); false after <paramref name="timeout"/> (default 15 s).</summary>
    public static async Task<bool> WaitAppliedAsync(IClusterClient client, int version, CancellationToken ct, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (DateTime.UtcNow < deadline)
        {
            var silos = (await client.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true)).Keys.Select(s => s.ToString()).ToList();
            var snapshot = await client.GetGrain<IFaultControlGrain>(0).Get();
            if (silos.All(s => snapshot.AppliedBySilo.TryGetValue(s, out var v) && v == version))
            {
                return true;
            }

            await Task.Delay(250, ct);
        }

        return false;
    }

    private static async Task<int> ReportAsync(ClientSession session, IClusterClient client, int version, CancellationToken ct)
    {
        var applied = await WaitAppliedAsync(client, version, ct);
        Print(session, await client.GetGrain<IFaultControlGrain>(0).Get(), applied);
        return applied ? ExitCodes.Ok : ExitCodes.RuntimeFailure;
    }

    private static void Print(ClientSession session, FaultSettingsSnapshot snapshot, bool applied)
    {
        var rules = snapshot.Rules?.Select(r => r.ToString()).ToList();
        session.Printer.Result(
            new
            {
                version = snapshot.Version,
                rules,
                appliedEverywhere = applied,
                silos = snapshot.AppliedBySilo.Select(s => new { silo = s.Key, version = s.Value, fired = snapshot.FiredBySilo.GetValueOrDefault(s.Key) }),
            },
            console =>
            {
                console.WriteLine(rules is null
                    ? "no run-time rules set: silos use their configured faults (none by default)"
                    : $"version {snapshot.Version}: {(rules.Count == 0 ? "all faults off" : string.Join(" ", rules))}");
                var table = new Table().AddColumns("silo", "applied version", "faults fired");
                foreach (var (silo, v) in snapshot.AppliedBySilo)
                {
                    table.AddRow(Markup.Escape(silo), $"{v}", $"{snapshot.FiredBySilo.GetValueOrDefault(silo)}");
                }

                console.Write(table);
                if (!applied)
                {
                    console.MarkupLine("[yellow]not every active silo has applied this version yet[/]");
                }
            });
    }
}
