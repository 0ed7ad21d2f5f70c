using System.Diagnostics;
using System.Text.Json;

namespace ExactlyOnce.Tests.Infrastructure;

/// <summary>Runs the client program as a user would, configured through environment variables.</summary>
public sealed class ClientProcess(string connectionString, string clusterId)
{
    /// <summary>How long a command may run before it is killed. Default: 5 minutes.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(5);

    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public JsonElement Json => JsonDocument.Parse(Stdout).RootElement;

        public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
    }

    public Task<Result> RunAsync(params string[] args) => RunAsync(new Dictionary<string, string>(), args);

    /// <summary>Runs a command with <c>--json</c>, asserts it succeeded, and returns its JSON result.</summary>
    public async Task<JsonElement> OkJsonAsync(params string[] args)
    {
        var result = await RunAsync([.. args, "--json"]);
        Assert.True(result.ExitCode == 0, result.ToString());
        return result.Json;
    }

    /// <summary>Runs the client with extra environment variables (e.g. a crash point).</summary>
    public async Task<Result> RunAsync(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var variables = new Dictionary<string, string>
        {
            ["ConnectionStrings__Orleans"] = connectionString,
            ["Cluster__ClusterId"] = clusterId,
            ["Cluster__ServiceId"] = clusterId,
            ["NO_COLOR"] = "1",
            ["COLUMNS"] = "200",
        };
        foreach (var (name, value) in environment)
        {
            variables[name] = value;
        }
        
        var run = await ProgramRun.RunAsync("dotnet", [RepoPaths.BuiltProgram("Client", "ExactlyOnce.Client.dll"), .. args], Timeout, variables);
        return new Result(run.ExitCode, run.Stdout, run.Stderr);
    }
}
