using System.Globalization;

namespace ExactlyOnce.Client.Bench;

/// <summary>
/// CPU time of local processes, read from /proc (Linux): user + system time of each process, plus
/// the time of its children that have exited (so a PostgreSQL backend that ended during the run
/// still counts, through the postmaster).
/// </summary>
public static class ProcessCpu
{
    /// <summary>Clock ticks per second of /proc times (USER_HZ: 100 on every Linux this runs on).</summary>
    private const double TicksPerSecond = 100.0;

    /// <summary>CPU seconds of the given processes so far; null when any of them cannot be read.</summary>
    public static double? SecondsOf(IEnumerable<int> processIds)
    {
        var total = 0.0;
        foreach (var pid in processIds)
        {
            if (ReadTicks(pid) is not { } ticks)
            {
                return null;
            }

            total += ticks;
        }

        return total / TicksPerSecond;
    }

    /// <summary>
    /// The PostgreSQL server of the session whose backend has <paramref name="backendPid"/>: its
    /// postmaster and every process the postmaster started. Null when it is not on this machine.
    /// </summary>
    public static IReadOnlyList<int>? PostgresProcesses(int backendPid)
    {
        if (ParentOf(backendPid) is not { } postmaster || CommandName(postmaster) is not ("postgres" or "postmaster"))
        {
            return null;
        }

        var pids = new List<int> { postmaster };
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out var pid) && pid != postmaster && ParentOf(pid) == postmaster)
            {
                pids.Add(pid);
            }
        }

        return pids;
    }

    private static string? CommandName(int pid) => TryRead($"/proc/{pid}/comm")?.Trim();

    private static int? ParentOf(int pid) => StatFields(pid) is { } fields ? int.Parse(fields[1], CultureInfo.InvariantCulture) : null;

    /// <summary>utime + stime + cutime + cstime.</summary>
    private static long? ReadTicks(int pid) => StatFields(pid) is { } f
        ? long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture)
          + long.Parse(f[13], CultureInfo.InvariantCulture) + long.Parse(f[14], CultureInfo.InvariantCulture)
        : null;

    /// <summary>The fields of /proc/pid/stat after the command name (field 3, state, is [0]).</summary>
    private static string[]? StatFields(int pid)
    {
        var text = TryRead($"/proc/{pid}/stat");
        var end = text?.LastIndexOf(')') ?? -1;
        return end < 0 ? null : text![(end + 2)..].Split(' ');
    }

    private static string? TryRead(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
