using System.CommandLine;
using ExactlyOnce.Client.Producers;
using ExactlyOnce.Client.Runs;
using Spectre.Console;
using ExactlyOnce.Hosting;

namespace ExactlyOnce.Client.Commands;

/// <summary>
/// <c>resend --run NAME</c>: publishes every recorded message of an exactly-once run again, with its
/// ids and sequences, as a sender retrying after a long outage would. Receivers recognise each copy
/// by its producer's sequence, whenever it comes: it changes nothing.
/// </summary>
public static class ResendCommand
{
    public static Command Create()
    {
        var run = new Option<string>("--run") { Description = "Name of a run recorded by 'load'.", Required = true };
        var command = new Command("resend", "Publish every message of a recorded run again, with the same ids and sequences (a retrying sender).") { run };
        command.SetSessionAction(async (parse, session, ct) =>
        {
            var name = parse.GetValue(run)!;
            RunNames.Require(name);
            var record = await new RunStore(await session.DatabaseAsync(ct), session.ServiceId).LoadAsync(name, ct);
            if (record.ProducerId is null)
            {
                throw new UsageException(
                    $"run '{name}' has no recorded producer (a {Arguments.ModeName(record.Mode)} run, or one recorded before sequencing): " +
                    "its ids are known to receivers only through the time-windowed fallback, so a late re-send could be applied twice; refused");
            }

            var client = await session.ClientAsync(ct);
            var outbox = await session.OutboxAsync(ct);
            var messages = await outbox.OfProducerAsync(record.ProducerId, ct);
            foreach (var message in messages)
            {
                await ClientPublishing.PublishAsync(client, message);
            }

            session.Printer.Result(
                new { run = name, producerId = record.ProducerId, resent = messages.Count },
                console => console.WriteLine($"re-sent {messages.Count} recorded message(s) of run {name} ({record.ProducerId}) with their ids and sequences"));
            return ExitCodes.Ok;
        });
        return command;
    }
}
