using System.Diagnostics;
using System.Text.Json;

namespace ExactlyOnce.Client.Bench;

/// <summary>
/// Runs scripts/ceiling.sh: pgbench issuing the statements one exactly-once message costs, with no
/// Orleans in between (docs/ceiling-notes.md). Its messages per second is what the pipeline's
/// throughput is compared with.
/// </summary>
public static class DatabaseCeiling
{
    public sealed record Result(double MessagesPerSecond, double CommitsPerMessage, int Clients, int Seconds);

    public static async Task<Result> MeasureAsync(string script, string connectionString, int clients, int seconds, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { script, "--clients", $"{clients}", "--seconds", $"{seconds}", "--json" })
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["ConnectionStrings__Orleans"] = connectionString;
        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start bash for the ceiling script");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            var last = (await stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault(l => l.StartsWith("ceiling.sh:", StringComparison.Ordinal));
            throw new InvalidOperationException($"the ceiling script failed (exit {process.ExitCode}): {last ?? "see its output"}");
        }

        using var json = JsonDocument.Parse((await stdout).Trim().Split('\n')[^1]);
        var root = json.RootElement;
        return new Result(root.GetProperty("messages_per_second").GetDouble(), root.GetProperty("commits_per_message").GetDouble(), clients, seconds);
    }
}
