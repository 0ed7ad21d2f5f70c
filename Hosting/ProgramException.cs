namespace ExactlyOnce.Hosting;

/// <summary>
/// A failure a program reports in one line, without a stack trace, and ends with
/// <see cref="ExitCode"/> (<see cref="ExitCodes"/>): the client and the silo print its message and
/// return its code.
/// </summary>
public abstract class ProgramException(string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>The process exit code this failure ends the program with.</summary>
    public abstract int ExitCode { get; }
}

/// <summary>
/// Bad configuration or usage: a bad flag or value, an unknown key, a malformed connection string,
/// a setting the cluster refuses. Nothing was done; exit code <see cref="ExitCodes.UsageOrConfiguration"/>.
/// </summary>
public sealed class ConfigurationException(string message, Exception? inner = null) : ProgramException(message, inner)
{
    /// <inheritdoc/>
    public override int ExitCode => ExitCodes.UsageOrConfiguration;
}

/// <summary>
/// The environment failed, not the input: PostgreSQL unreachable or refusing the login, no silo of
/// the cluster reachable, a failure while running. Exit code <see cref="ExitCodes.RuntimeFailure"/>.
/// </summary>
public sealed class InfrastructureException(string message, Exception? inner = null) : ProgramException(message, inner)
{
    /// <inheritdoc/>
    public override int ExitCode => ExitCodes.RuntimeFailure;
}
