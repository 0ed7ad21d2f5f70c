using ExactlyOnce.Hosting;

namespace ExactlyOnce.Client.Commands;

/// <summary>Bad input on the command line: one line for the user, exit code 2, nothing published.</summary>
public sealed class UsageException(string message) : ProgramException(message)
{
    /// <inheritdoc/>
    public override int ExitCode => ExitCodes.UsageOrConfiguration;
}
