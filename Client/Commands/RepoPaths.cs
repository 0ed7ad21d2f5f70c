namespace ExactlyOnce.Client.Commands;

/// <summary>Where the client finds the silo program and scripts when run from a build of this repository.</summary>
public static class RepoPaths
{
    /// <summary>The repository root (the folder holding Orleans.sln) above the client's binaries, if any.</summary>
    public static string? Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Orleans.sln")))
            {
                return dir.FullName;
            }
        }

        return null;
    }

    /// <summary>Silo/bin/&lt;same configuration&gt;/&lt;same framework&gt;/ExactlyOnce.Silo.dll, or a sibling file in a flat install.</summary>
    public static string BuiltSiloDll()
    {
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var flat = Path.Combine(here.FullName, "ExactlyOnce.Silo.dll");
        if (File.Exists(flat) || Root() is not { } root)
        {
            return flat;
        }

        return Path.Combine(root, "Silo", "bin", here.Parent!.Name, here.Name, "ExactlyOnce.Silo.dll");
    }

    /// <summary>The silo program given (or the one built next to this client); a usage error when it is not there.</summary>
    public static string RequireSiloDll(string? given)
    {
        var dll = given ?? BuiltSiloDll();
        return File.Exists(dll) ? dll : throw new UsageException($"silo program not found at '{dll}' (build the solution, or pass --silo-dll)");
    }

    /// <summary>"bash &lt;root&gt;/scripts/pg.sh restart", when the script is there.</summary>
    public static string? DefaultDatabaseRestartCommand() =>
        Root() is { } root && File.Exists(Path.Combine(root, "scripts", "pg.sh")) ? $"bash '{Path.Combine(root, "scripts", "pg.sh")}' restart" : null;
}
