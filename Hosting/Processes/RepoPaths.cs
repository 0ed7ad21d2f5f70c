namespace ExactlyOnce.Hosting.Processes;

/// <summary>Where programs built from this repository find each other and the repository's files.</summary>
public static class RepoPaths
{
    /// <summary>The repository root (the folder holding Orleans.sln) above the running program's binaries, if any.</summary>
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

    /// <summary>The repository root; throws when the program does not run from a build of the repository.</summary>
    public static string RequireRoot() =>
        Root() ?? throw new DirectoryNotFoundException($"no Orleans.sln above {AppContext.BaseDirectory}: not run from a build of this repository");

    /// <summary>
    /// <paramref name="dll"/> as built by <paramref name="project"/> (a folder under the root) in the
    /// same configuration and framework as the running program when that build exists, else a file
    /// of that name next to the running program (a flat install, as in the container images).
    /// </summary>
    public static string BuiltProgram(string project, string dll)
    {
        // <project>/bin/<Configuration>/<framework>/, the configuration and framework of the running program.
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        if (Root() is { } root && Path.Combine(root, project, "bin", here.Parent!.Name, here.Name, dll) is var built && File.Exists(built))
        {
            return built;
        }

        return Path.Combine(here.FullName, dll);
    }

    /// <summary>The silo program built next to the running one.</summary>
    public static string BuiltSiloDll() => BuiltProgram("Silo", "ExactlyOnce.Silo.dll");
}
