using System.CommandLine;
using Orleans.Streams;
using System.Text.Json;
using ExactlyOnce.Grains;
using ExactlyOnce.Grains.Diagnostics;
using ExactlyOnce.Hosting;

namespace ExactlyOnce.Client.Commands;

/// <summary>
/// <c>probe increment|read &lt;key&gt;</c> and <c>probe publish &lt;key&gt;</c>: infrastructure self-tests used by
/// the quick-start demo (a persisted counter that survives a silo crash) and by the tests.
/// </summary>
public static class ProbeCommands
{
    public static Command Create()
    {
        var probe = new Command("probe", "Infrastructure self-test: a persisted counter grain and the probe stream.");
        probe.Subcommands.Add(CounterCommand("increment", "Add one to the counter <key> and print it with the silo that answered.", g => g.Increment()));
        probe.Subcommands.Add(CounterCommand("read", "Print the counter <key> and the silo that answered.", g => g.Read()));

        var publishKey = new Argument<Guid>("key") { Description = "Guid key of the probe stream." };
        var publish = new Command("publish", "Publish one probe event to the durable stream <key>; prints the event id.") { publishKey };
        publish.SetAction(async (parse, ct) =>
        {
            await using var connection = await ClusterConnection.ConnectAsync(ClusterConnection.LoadConfiguration(), ct);
            var stream = connection.Client.GetStreamProvider(OrleansNames.StreamProvider)
                .GetStream<ProbeEvent>(StreamNamespaces.Probe, parse.GetValue(publishKey));
            var evt = new ProbeEvent(Guid.NewGuid());
            await stream.OnNextAsync(evt);
            Console.WriteLine(evt.EventId);
            return ExitCodes.Ok;
        });
        probe.Subcommands.Add(publish);
        return probe;
    }

    private static Command CounterCommand(string name, string description, Func<IProbeGrain, Task<ProbeReply>> call)
    {
        var key = new Argument<string>("key") { Description = "Name of the counter." };
        var command = new Command(name, description) { key };
        command.SetAction(async (parse, ct) =>
        {
            await using var connection = await ClusterConnection.ConnectAsync(ClusterConnection.LoadConfiguration(), ct);
            var reply = await call(connection.Client.GetGrain<IProbeGrain>(parse.GetValue(key)!));
            Console.WriteLine(parse.GetValue(CommandFactory.Json)
                ? JsonSerializer.Serialize(new { count = reply.Count, silo = reply.SiloAddress, pid = reply.ProcessId })
                : $"count={reply.Count} silo={reply.SiloAddress} pid={reply.ProcessId}");
            return ExitCodes.Ok;
        });
        return command;
    }
}
