using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;

namespace ExactlyOnce.Tests.Infrastructure;

/// <summary>
/// Debian's <c>chromium</c> in headless mode, run once per page: <see cref="DumpDomAsync"/> loads a
/// URL, lets its scripts run for a budget of virtual time (network loads included) and returns the
/// DOM as it then is; <see cref="ScreenshotAsync"/> writes a PNG. A missing browser is a failure
/// with the command that installs it, never a skip (.ci/run installs it).
/// </summary>
public static partial class HeadlessChromium
{
    /// <summary>The browser: <c>$CHROMIUM</c>, else <c>chromium</c> on the PATH.</summary>
    public static string Executable()
    {
        var configured = Environment.GetEnvironmentVariable("CHROMIUM");
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return File.Exists(configured) ? configured
                : throw new InvalidOperationException($"CHROMIUM={configured} does not exist");
        }

        var found = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, "chromium")).FirstOrDefault(File.Exists);
        return found ?? throw new InvalidOperationException(
            "headless Chromium is required by this test and is not installed: run 'apt-get install -y chromium' (Debian's package; .ci/run installs it), or set CHROMIUM to the browser's path");
    }

    /// <summary>The DOM of <paramref name="url"/> after its scripts ran for <paramref name="budget"/> of virtual time.</summary>
    public static async Task<string> DumpDomAsync(Uri url, TimeSpan budget) =>
        (await RunAsync([$"--virtual-time-budget={(int)budget.TotalMilliseconds}", "--dump-dom", url.ToString()])).Stdout;

    /// <summary>A PNG of <paramref name="url"/> at <paramref name="width"/>×<paramref name="height"/> after <paramref name="budget"/> of virtual time.</summary>
    public static async Task ScreenshotAsync(Uri url, string path, int width, int height, TimeSpan budget) =>
        await RunAsync([$"--virtual-time-budget={(int)budget.TotalMilliseconds}", "--hide-scrollbars", $"--window-size={width},{height}", $"--screenshot={Path.GetFullPath(path)}", url.ToString()]);

    /// <summary>
    /// The figures of a page: each element's <c>data-figure</c> name and its text, in document order
    /// (a name may repeat, one per row).
    /// </summary>
    public static IReadOnlyList<(string Name, string Text)> Figures(string dom) =>
        [.. FigurePattern().Matches(dom).Select(m => (m.Groups[1].Value, WebUtility.HtmlDecode(m.Groups[2].Value)))];

    private static async Task<(string Stdout, string Stderr)> RunAsync(IEnumerable<string> args)
    {
        var profile = Directory.CreateTempSubdirectory("chromium-");
        try
        {
            // Root (CI) needs --no-sandbox; a profile of its own per run, so parallel runs do not share a lock.
            var run = await ProgramRun.RunAsync(Executable(),
                ["--headless", "--disable-gpu", "--no-sandbox", "--no-first-run", "--disable-extensions", $"--user-data-dir={profile.FullName}", .. args],
                TimeSpan.FromSeconds(60));
            return run.ExitCode == 0 ? (run.Stdout, run.Stderr) : throw new InvalidOperationException($"chromium exited {run.ExitCode}: {run.Stderr}");
        }
        finally
        {
            try
            {
                profile.Delete(recursive: true);
            }
            catch (IOException)
            {
                // A crash helper may still hold a file; the temp folder is the system's to clean.
            }
        }
    }

    [GeneratedRegex("""data-figure="([^"]+)"[^>]*>([^<]*)<""")]
    private static partial Regex FigurePattern();
}
