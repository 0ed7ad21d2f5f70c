using System.CommandLine;

namespace ExactlyOnce.Client.Commands;

/// <summary>Small helpers to declare commands the same way everywhere.</summary>
public static class CommandFactory
{
    /// <summary>--json, accepted by every command.</summary>
    public static readonly Option<bool> Json = new("--json")
    {
        Description = "Print the result as JSON on stdout (and nothing else there).",
        Recursive = true,
    };

    /// <summary>Sets an action that opens a session (configuration, output, lazy connection) and returns an exit code.</summary>
    public static void SetSessionAction(this Command command, Func<ParseResult, ClientSession, CancellationToken, Task<int>> action) =>
        command.SetAction(async (parse, ct) =>
        {
            await using var session = new ClientSession(parse.GetValue(Json));
            return await action(parse, session, ct);
        });
}
