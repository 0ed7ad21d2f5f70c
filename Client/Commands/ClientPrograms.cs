using ExactlyOnce.Hosting.Processes;

namespace ExactlyOnce.Client.Commands;

/// <summary>The programs and scripts the client's own commands start (chaos, bench), found through <see cref="RepoPaths"/>.</summary>
public static class ClientPrograms
{
    /// <summary>The silo program given (or the one built next to this client); a usage error when it is not there.</summary>
    public static string RequireSiloDll(string? given)
    {
        var dll = given ?? RepoPaths.BuiltSiloDll();
        return File.Exists(dll) ? dll : throw new UsageException($"silo program not found at '{dll}' (build the solution, or pass --silo-dll)");
    }

    /// <summary>"bash &lt;root&gt;/scripts/pg.sh restart", when the script is there.</summary>
    public static string? DefaultDatabaseRestartCommand() =>
        RepoPaths.Root() is { } root && File.Exists(Path.Combine(root, "scripts", "pg.sh")) ? $"bash '{Path.Combine(root, "scripts", "pg.sh")}' restart" : null;

    /// <summary>scripts/ceiling.sh of the repository, when the client runs from a build of it.</summary>
    public static string? CeilingScript() => RepoPaths.Root() is { } root ? Path.Combine(root, "scripts", "ceiling.sh") : null;
}
