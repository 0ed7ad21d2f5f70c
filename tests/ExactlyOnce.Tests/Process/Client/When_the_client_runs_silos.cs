using System.Diagnostics;
using ExactlyOnce.Hosting.Processes;

namespace ExactlyOnce.Tests.Client;

/// <summary>
/// <c>client silos</c>, what the demo scripts start their cluster with: the silos join, serve a
/// command, and stop gracefully when the command gets SIGTERM.
/// </summary>
[Trait("Category", "Integration")]
[Trait("Kind", "Process")]
public sealed class When_the_client_runs_silos
{
    [Fact]
    public async Task Should_start_them_serve_the_cluster_and_stop_every_silo_gracefully_on_SIGTERM()
    {
        await using var db = await TestDatabase.CreateAsync("silos");
        var clusterId = $"sil-{Guid.NewGuid():N}"[..12];
        var logs = Directory.CreateTempSubdirectory("silos-");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in (string[])[RepoPaths.BuiltProgram("Client", "ExactlyOnce.Client.dll"), "silos", "--count", "2",
                     "--silo-port", $"{SiloProcess.FreePort()}", "--gateway-port", $"{SiloProcess.FreePort()}", "--logs", logs.FullName])
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["ConnectionStrings__Orleans"] = db.ConnectionString;
        info.Environment["Cluster__ClusterId"] = clusterId;
        info.Environment["Cluster__ServiceId"] = clusterId;
        using var runner = Process.Start(info)!;
        var lines = new List<string>();
        try
        {
            while (await runner.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(120)) is { } line && line != "all silos started")
            {
                lines.Add(line);
            }

            Assert.Equal(2, lines.Count);
            var pids = lines.Select(l => int.Parse(l.Split(' ')[3])).ToList();
            var counter = await new ClientProcess(db.ConnectionString, clusterId).OkJsonAsync("probe", "increment", "silos-test");
            Assert.Equal(1, counter.GetProperty("count").GetInt32());
            Assert.Contains(counter.GetProperty("pid").GetInt32(), pids);

            Assert.Equal(0, Kill(runner.Id, 15));
            await runner.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(45));

            Assert.Equal(0, runner.ExitCode);
            Assert.All(pids, pid => Assert.False(IsRunning(pid), $"silo pid {pid} still runs"));
            foreach (var log in new[] { "silo1.log", "silo2.log" })
            {
                var text = await File.ReadAllTextAsync(Path.Combine(logs.FullName, log));
                Assert.Contains("silo started", text);
                Assert.Contains("Application is shutting down", text);
                Assert.DoesNotContain("second SIGTERM", text); // one signal each: a graceful stop, not a cut one
            }
        }
        finally
        {
            if (!runner.HasExited)
            {
                runner.Kill(entireProcessTree: true);
            }

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

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
