namespace ExactlyOnce.Hosting;

/// <summary>
/// A problem that stops a program from starting (bad configuration, unreachable database).
/// Its message is one line meant for the user; programs print it without a stack trace.
/// </summary>
public sealed class StartupException(string message, Exception? inner = null) : Exception(message, inner);
