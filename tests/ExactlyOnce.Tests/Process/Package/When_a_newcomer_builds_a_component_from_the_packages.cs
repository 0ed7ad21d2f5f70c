using CliWrap;
using CliWrap.Buffered;
using ExactlyOnce.Hosting.Processes;
using Xunit.Abstractions;

namespace ExactlyOnce.Tests.Package;

/// <summary>
/// The library as a newcomer meets it: both packages packed into a folder feed, a new silo project
/// outside the solution that references only them and Orleans (tests/Newcomer: a loyalty component
/// of 60 lines with Guid keys and a rewards component with integer keys consuming what it sends; the
/// sample's components have string keys), run against an empty PostgreSQL
/// database. The silo is killed by crash faults twice while every fourth message is sent twice;
/// every customer's points and awards must come out exactly once, in order.
/// </summary>
[Trait("Category", "Process")]
[Collection(TestCollections.MostlyWaiting)]
[Trait("Kind", "Process")]
public sealed class When_a_newcomer_builds_a_component_from_the_packages(ITestOutputHelper output)
{
    private const int Customers = 5;
    private const int PerCustomer = 20;
    private const string CrashRule = "after-commit=0.05:crash";

    [Fact]
    public async Task Should_apply_every_message_once_through_duplicates_and_silo_crashes()
    {
        var root = RepoPaths.RequireRoot();
        var work = Directory.CreateTempSubdirectory("newcomer-");
        var version = $"0.0.0-newcomer.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}";
        try
        {
            var feed = work.CreateSubdirectory("feed").FullName;
            foreach (var library in new[] { "ExactlyOnce.Orleans", "ExactlyOnce.Orleans.PostgreSql" })
            {
                await RunAsync(root, TimeSpan.FromMinutes(3), "pack", Path.Combine("Library", library), "-c", Configuration, "--no-build",
                    "-o", feed, $"-p:PackageVersion={version}", "-nologo");
            }

            var app = CreateProject(root, work.CreateSubdirectory("app").FullName, version);
            await RunAsync(app, TimeSpan.FromMinutes(5), "build", "-c", "Release", "-nologo");
            var program = Path.Combine(app, "bin", "Release", "net10.0", "Newcomer.dll");

            await using var db = await TestDatabase.CreateEmptyAsync("newcomer");
            await using var silo = new SiloProcess(program, SiloProcess.FreePort(), SiloProcess.FreePort(),
                ["--connection-string", db.ConnectionString, "--fault", CrashRule]);
            await silo.StartAsync(TimeSpan.FromSeconds(60));
            var sent = await RunProgramAsync(program, "send", "--connection-string", db.ConnectionString,
                "--customers", $"{Customers}", "--per-customer", $"{PerCustomer}");
            Assert.True(sent.ExitCode == 0 && sent.StandardOutput.Contains("sent"), Describe(sent));

            // Two lives end in a crash fault (a real kill of the process); the third runs without faults.
            for (var life = 1; life <= 2; life++)
            {
                await Eventually.WaitForAsync(() => Task.FromResult(silo.HasExited), exited => exited, TimeSpan.FromSeconds(90),
                    $"silo life {life} killed by a crash fault");
                Assert.Contains("crash fault at after-commit", silo.Output);
                if (life == 2)
                {
                    silo.Arguments = ["--connection-string", db.ConnectionString];
                }

                await silo.StartAsync(TimeSpan.FromSeconds(60));
            }

            var expected = Enumerable.Range(1, Customers)
                .Select(c => $"{1000 + c} {PerCustomer * (PerCustomer + 1) / 2} {PerCustomer} {PerCustomer} {PerCustomer * (PerCustomer + 1) / 2} {PerCustomer / 5}")
                .ToList();
            var last = "";
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
            while (DateTime.UtcNow < deadline)
            {
                var check = await RunProgramAsync(program, "check", "--connection-string", db.ConnectionString, "--customers", $"{Customers}");
                last = Describe(check);
                if (check.ExitCode == 0 && Lines(check.StandardOutput).SequenceEqual(expected))
                {
                    break;
                }

                await Task.Delay(TimeSpan.FromSeconds(3));
            }

            output.WriteLine(last);
            Assert.True(last.Contains(string.Join('\n', expected)), $"expected, per customer: account total awards received last-total milestones:\n{string.Join('\n', expected)}\ngot: {last}");
            Assert.Equal(2, silo.Output.Split("crash fault at after-commit").Length - 1);
        }
        finally
        {
            work.Delete(recursive: true);
            ForgetCachedPackages(version);
        }
    }

    private static string Configuration => new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;

    /// <summary>The newcomer's project: its sources from tests/Newcomer, the package version, a feed of the two packages beside the usual source.</summary>
    private static string CreateProject(string root, string app, string version)
    {
        var sources = Path.Combine(root, "tests", "Newcomer");
        foreach (var file in Directory.GetFiles(sources, "*.cs"))
        {
            File.Copy(file, Path.Combine(app, Path.GetFileName(file)));
        }

        File.WriteAllText(Path.Combine(app, "Newcomer.csproj"),
            File.ReadAllText(Path.Combine(sources, "Newcomer.csproj.template")).Replace("@VERSION@", version));
        File.WriteAllText(Path.Combine(app, "nuget.config"), """
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="newcomer-feed" value="../feed" />
              </packageSources>
            </configuration>
            """);
        return app;
    }

    private async Task RunAsync(string directory, TimeSpan timeout, params string[] arguments)
    {
        using var cancel = new CancellationTokenSource(timeout);
        var result = await Cli.Wrap("dotnet").WithArguments(arguments).WithWorkingDirectory(directory)
            .WithValidation(CommandResultValidation.None).ExecuteBufferedAsync(cancel.Token);
        Assert.True(result.ExitCode == 0, $"dotnet {string.Join(' ', arguments)}: {Describe(result)}");
        output.WriteLine($"dotnet {arguments[0]}: {result.RunTime.TotalSeconds:F1} s");
    }

    private static async Task<BufferedCommandResult> RunProgramAsync(string program, params string[] arguments)
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        return await Cli.Wrap("dotnet").WithArguments([program, .. arguments])
            .WithValidation(CommandResultValidation.None).ExecuteBufferedAsync(cancel.Token);
    }

    private static IEnumerable<string> Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static string Describe(BufferedCommandResult result) =>
        $"exit {result.ExitCode}\n{string.Join('\n', Lines(result.StandardOutput))}\n{result.StandardError[^Math.Min(2000, result.StandardError.Length)..]}";

    /// <summary>The packages of this run leave the NuGet cache with it (their version is never used again).</summary>
    private static void ForgetCachedPackages(string version)
    {
        var cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        foreach (var id in new[] { "exactlyonce.orleans", "exactlyonce.orleans.postgresql" })
        {
            var folder = new DirectoryInfo(Path.Combine(cache, id, version));
            if (folder.Exists)
            {
                folder.Delete(recursive: true);
            }
        }
    }
}
