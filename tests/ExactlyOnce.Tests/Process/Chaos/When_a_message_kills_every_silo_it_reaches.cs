using System.Diagnostics;
using Xunit.Abstractions;

namespace ExactlyOnce.Tests.Chaos;

/// <summary>
/// A message whose handling kills the silo process every time (a crash fault armed for its id,
/// cluster-wide, re-applied by every restarted silo), among normal traffic to other orders, on 3
/// silo processes that are started again when they die. The stream SQL counts the abandons, hands
/// the row out in ever smaller suspect groups, and dead-letters it when it kills its silo twice alone.
/// </summary>
[Trait("Category", "Chaos")]
[Collection(TestCollections.MostlyWaiting)]
[Trait("Kind", "Process")]
public sealed class When_a_message_kills_every_silo_it_reaches(ITestOutputHelper output)
{
    /// <summary>
    /// The default VisibilityTimeout (60 s) would make each death cost a minute before the row is
    /// read again; 20 s (the least the default MaxEventDeliveryTime allows) keeps the test short.
    /// Nothing else differs from the defaults.
    /// </summary>
    private static readonly string[] SiloArgs = ["--Streams:VisibilityTimeout", "00:00:20", .. SiloProcess.FaultInjectionOn];

    [Fact]
    public async Task Should_dead_letter_it_after_a_few_silo_deaths_and_apply_everything_else_once()
    {
        await using var db = await TestDatabase.CreateAsync("killer");
        var cluster = $"kill-{Guid.NewGuid():N}"[..12];
        var silos = Enumerable.Range(0, 3).Select(_ => SiloProcess.Start(db.ConnectionString, cluster, SiloArgs)).ToList();
        var all = new List<SiloProcess>(silos);
        try
        {
            await Task.WhenAll(silos.Select(s => s.WaitStartedAsync(TimeSpan.FromSeconds(90))));
            var client = new ClientProcess(db.ConnectionString, cluster) { Timeout = TimeSpan.FromMinutes(8) };
            var killer = Guid.NewGuid();
            await client.OkJsonAsync("faults", "set", $"before-commit=1:crash@{killer}");
            await client.OkJsonAsync("send", "add-item", "--order", "killer", "--filling", "Meat", "--id", $"{killer}");
            var load = client.RunAsync("load", "--orders", "10", "--items", "60", "--duplicates", "0.1", "--removes", "0.2", "--run", cluster, "--json");

            // Start again every silo that dies, until the killer is in the stream dead letters.
            var deaths = 0;
            var clock = Stopwatch.StartNew();
            var deadLetters = 0L;
            while (clock.Elapsed < TimeSpan.FromMinutes(6))
            {
                for (var i = 0; i < silos.Count; i++)
                {
                    if (silos[i].HasExited)
                    {
                        deaths++;
                        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: silo on port {silos[i].SiloPort} died ({deaths}): starting another");
                        silos[i] = SiloProcess.Start(db.ConnectionString, cluster, SiloArgs);
                        all.Add(silos[i]);
                    }
                }

                deadLetters = await db.ScalarAsync<long>($"SELECT count(*) FROM OrleansStreamDeadLetter WHERE ServiceId = '{cluster}'");
                if (deadLetters > 0)
                {
                    break;
                }

                await Task.Delay(500);
            }

            output.WriteLine($"dead-lettered after {clock.Elapsed.TotalSeconds:0.0} s and {deaths} silo deaths");
            Assert.True(deadLetters > 0, $"the killer was not dead-lettered within 6 minutes ({deaths} silo deaths)");
            // Only the death of the silo whose agent holds the row counts as an abandon (8 are needed:
            // 3 make it a suspect, 5 more in suspect groups of 8, 4, 2, 1 and 1). The grain it kills
            // may live on another silo, whose death the row cannot see, so the total varies.
            Assert.True(deaths >= 8, $"dead-lettered after only {deaths} silo deaths");

            var loaded = await load;
            Assert.True(loaded.ExitCode == 0, loaded.ToString());
            await client.OkJsonAsync("faults", "clear");

            // Everything else is applied exactly once.
            var verify = await client.RunAsync("verify", "--run", cluster, "--timeout", "240", "--json");
            output.WriteLine(verify.Stdout);
            Assert.True(verify.ExitCode == 0, verify.ToString());
            foreach (var count in new[] { "lost", "duplicated", "ghost", "inconsistent", "reordered" })
            {
                Assert.Equal(0, verify.Json.GetProperty(count).GetInt32());
            }

            // The killer, and only it, is a stream dead letter, with the reason.
            var list = await client.OkJsonAsync("dead-letters", "list");
            output.WriteLine(list.ToString());
            var stream = list.GetProperty("stream").EnumerateArray().ToList();
            var letter = Assert.Single(stream);
            Assert.Equal(killer, letter.GetProperty("messageId").GetGuid());
            Assert.Equal("killed its silo: abandoned 8 times, the last 5 in suspect groups of 8, 4, 2, 1 and 1", letter.GetProperty("reason").GetString());
            Assert.Empty(list.GetProperty("sequenced").EnumerateArray());
        }
        finally
        {
            foreach (var silo in all)
            {
                await silo.DisposeAsync();
            }
        }
    }
}
