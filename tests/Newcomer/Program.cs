// A newcomer's host for the loyalty component:
//   Newcomer --silo-port P --gateway-port G --connection-string C [--fault RULE]   a silo (applies the schema first)
//   Newcomer send --connection-string C --customers N --per-customer M              EarnPoints 1..M to each customer, every 4th sent twice
//   Newcomer check --connection-string C --customers N                              "<account> total awards received last-total milestones" per customer
using System.Net;
using ExactlyOnce;
using ExactlyOnce.Faults;
using ExactlyOnce.Messaging;
using ExactlyOnce.PostgreSql;
using Loyalty;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

const string Cluster = "newcomer";
var mode = args.FirstOrDefault() is "send" or "check" ? args[0] : "silo";
var options = args.SkipWhile(a => !a.StartsWith("--")).Chunk(2).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
if (!options.TryGetValue("--connection-string", out var database))
{
    Console.Error.WriteLine("usage: Newcomer [send|check] --connection-string C ... (see Program.cs)");
    return 2;
}

if (mode == "silo")
{
    await new SchemaMigrator(database).ApplyAsync();
    using var silo = Host.CreateDefaultBuilder()
        .ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Warning))
        .UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (Cluster, Cluster));
            silo.ConfigureEndpoints(IPAddress.Loopback, int.Parse(options["--silo-port"]), int.Parse(options["--gateway-port"]));
            silo.UseAdoNetClustering(o => (o.Invariant, o.ConnectionString) = ("Npgsql", database));
            silo.AddExactlyOnceGrainStorage(database);
            silo.UseAdoNetReminderService(o => (o.Invariant, o.ConnectionString) = ("Npgsql", database));
            silo.AddExactlyOnceStreams(database);
            silo.AddExactlyOnceMessaging();
            silo.AddExactlyOncePostgreSql(o => o.ConnectionString = database);
            if (options.TryGetValue("--fault", out var rule))
            {
                silo.AddExactlyOnceFaultInjection(new FaultInjectionPolicy(Enabled: true, AllowCrash: true), [FaultRule.Parse(rule)]);
            }
        })
        .Build();
    await silo.StartAsync();
    Console.WriteLine("silo started: newcomer");
    await silo.WaitForShutdownAsync();
    return 0;
}

using var client = Host.CreateDefaultBuilder()
    .ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Warning))
    .UseOrleansClient(client =>
    {
        client.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (Cluster, Cluster));
        client.UseAdoNetClustering(o => (o.Invariant, o.ConnectionString) = ("Npgsql", database));
        client.AddExactlyOnceStreams(database);
        client.AddExactlyOnceProducers(o => o.ConnectionString = database);
    })
    .Build();
await client.StartAsync();
// Customer c: id 0000000c-0000-0000-0000-000000000000, rewards account 1000 + c.
var customers = Enumerable.Range(1, int.Parse(options["--customers"])).Select(c => (Id: new Guid(c, 0, 0, new byte[8]), Account: 1000L + c)).ToList();
if (mode == "send")
{
    var sender = client.Services.GetRequiredService<ExactlyOnceSender>();
    for (var points = 1; points <= int.Parse(options["--per-customer"]); points++)
    {
        foreach (var customer in customers)
        {
            var sent = await sender.SendAsync("loyalty-test", "loyalty", StreamKeys.Of(customer.Id), new EarnPoints(Guid.NewGuid(), customer.Id, customer.Account, points));
            if (points % 4 == 0)
            {
                await sender.ResendAsync(sent.Message.MessageId); // a duplicate: same id, sequence and payload
            }
        }
    }

    Console.WriteLine("sent");
    return 0;
}

var grains = client.Services.GetRequiredService<IClusterClient>();
foreach (var customer in customers)
{
    var points = await grains.GetGrain<ILoyaltyGrain>(customer.Id).GetPoints();
    var rewards = await grains.GetGrain<IRewardsGrain>(customer.Account).GetRewards();
    Console.WriteLine($"{customer.Account} {points.Total} {points.Awards} {rewards.Received} {rewards.LastTotal} {rewards.Milestones}");
}

return 0;
