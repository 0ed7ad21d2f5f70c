using System.Diagnostics;
using ExactlyOnce.Hosting.Processes;

namespace ExactlyOnce.Tests.Client;

/// <summary>
/// <c>client silos</c>, what the demo scripts start their cluster with: the silos join, serve a
/// command, and stop gracefully when the command gets SIGTERM (exit 0) or Ctrl+C (SIGINT, exit 130).
/// </summary>
[Trait("Category", "Integration")]
[Trait("Kind", "Process")]
public sealed class When_the_client_runs_silos
{
    [Theory]
    [InlineData("SIGTERM", 15, false, 0)]
    [InlineData("SIGINT", 2, false, 130)] // the silos stop as gracefully, the command says it was interrupted
    // Ctrl+C in the terminal: SIGINT to the command and to every process in its group, the silos
    // included unless they run apart; then the SIGTERM the command passes on would be their second signal.
    [InlineData("Ctrl+C in its terminal", 2, true, 130)]
    public async Task Should_start_them_serve_the_cluster_and_stop_every_silo_gracefully_on(string name, int signal, bool toItsProcessGroup, int exitCode)
    {
        await using var db = await TestDatabase.CreateAsync("silos");
        var clusterId = $"sil-{Guid.NewGuid():N}"[..12];
        var logs = Directory.CreateTempSubdirectory("silos-");
        var runner = InterruptibleProgram.Start(RepoPaths.BuiltProgram("Client", "ExactlyOnce.Client.dll"),
            ["silos", "--count", "2", "--silo-port", $"{SiloProcess.FreePort()}", "--gateway-port", $"{SiloProcess.FreePort()}", "--logs", logs.FullName],
            new Dictionary<string, string>
            {
                ["ConnectionStrings__Orleans"] = db.ConnectionString,
                ["Cluster__ClusterId"] = clusterId,
                ["Cluster__ServiceId"] = clusterId,
            },
            ownSession: toItsProcessGroup);
        try
        {
            await runner.WaitForLineAsync("all silos started", TimeSpan.FromSeconds(120));
            var lines = runner.StdoutLines.TakeWhile(l => l != "all silos started").ToList();
            Assert.Equal(2, lines.Count);
            var pids = lines.Select(l => int.Parse(l.Split(' ')[3])).ToList();
            var counter = await new ClientProcess(db.ConnectionString, clusterId).OkJsonAsync("probe", "increment", "silos-test");
            Assert.Equal(1, counter.GetProperty("count").GetInt32());
            Assert.Contains(counter.GetProperty("pid").GetInt32(), pids);

            if (toItsProcessGroup)
            {
                runner.SignalGroup(signal);
            }
            else
            {
                runner.Signal(signal);
            }

            Assert.True(await runner.WaitForExitAsync(TimeSpan.FromSeconds(45)), $"still running 45 s after {name}\n{runner.Output}");
            Assert.True(runner.ExitCode == exitCode, $"exit code {runner.ExitCode} after {name}\n{runner.Output}");
            Assert.All(pids, pid => Assert.False(IsRunning(pid), $"silo pid {pid} still runs after {name}"));
            foreach (var log in new[] { "silo1.log", "silo2.log" })
            {
                var text = await File.ReadAllTextAsync(Path.Combine(logs.FullName, log));
                Assert.Contains("silo started", text);
                Assert.Contains("Application is shutting down", text);
                Assert.DoesNotContain("during shutdown; exiting now", text); // one signal each: a graceful stop, not a cut one
            }
        }
        finally
        {
            runner.Dispose();
            logs.Delete(recursive: true);
        }
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            return !Process.GetProcessById(pid).HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
