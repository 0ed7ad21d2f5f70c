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
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(RepoPaths.BuiltProgram("Client", "ExactlyOnce.Client.dll"));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["ConnectionStrings__Orleans"] = connectionString;
        info.Environment["Cluster__ClusterId"] = clusterId;
        info.Environment["Cluster__ServiceId"] = clusterId;
        info.Environment["NO_COLOR"] = "1";
        info.Environment["COLUMNS"] = "200";
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"client {string.Join(' ', args)} did not exit:\n{await stdout}");
        }

        return new Result(process.ExitCode, await stdout, await stderr);
    }
}
