using System.CommandLine;
using System.Text.RegularExpressions;
using ExactlyOnce.Hosting;
using ExactlyOnce.Silo.Storage;
using Microsoft.Extensions.Configuration;

namespace ExactlyOnce.Silo;

/// <summary>
/// The silo's command line (System.CommandLine: the verbs, the flags, <c>--help</c>) and its
/// configuration: appsettings.json, then environment, then the command line, where any setting can
/// also be given as <c>--Section:Key value</c>.
/// </summary>
public static partial class SiloCommandLine
{
    /// <summary>One flag: its name, the configuration key it sets, the name of its value and what it does.</summary>
    public sealed record Flag(string Name, string Key, string ValueName, string Description);

    /// <summary>What the command line asks for: a verb (null: run the silo) and the arguments for the configuration, or an exit code.</summary>
    /// <param name="Verb">null, <c>migrate</c> or <c>health</c>.</param>
    /// <param name="Options">The arguments without the verb, for <see cref="BuildConfiguration"/>.</param>
    /// <param name="ExitCode">Set when nothing is to run: 0 after <c>--help</c>, 2 after bad usage (one line written).</param>
    public sealed record Invocation(string? Verb, string[] Options, int? ExitCode);

    /// <summary>The flags, each a shortcut for one configuration key.</summary>
    public static readonly IReadOnlyList<Flag> FlagList =
    [
        new("--silo-port", "Silo:SiloPort", "port", "Silo-to-silo port. Default: 11111."),
        new("--gateway-port", "Silo:GatewayPort", "port", "Port clients connect to. Default: 30000."),
        new("--advertised-address", "Silo:AdvertisedAddress", "address", "IP or host name other silos and clients use to reach this silo. Default: 127.0.0.1."),
        new("--apply-schema", "Silo:ApplySchema", "true|false", "Apply the schema on start. Default: true."),
        new("--cluster-id", "Cluster:ClusterId", "id", "Silos and clients with the same id form a cluster. Default: exactly-once."),
        new("--service-id", "Cluster:ServiceId", "id", "Keys grain state, reminders and stream queues. Default: pierogi-shop."),
        new("--connection-string", ClusterSettings.ConnectionStringKey, "npgsql", "PostgreSQL connection string (environment: ConnectionStrings__Orleans)."),
        new("--log-format", "Silo:LogFormat", "simple|json", "Console log lines as text (simple) or one JSON object each (json). Default: simple."),
        new("--http-port", Http.HttpSettings.PortKey, "port", "Port of the silo's HTTP endpoint (health, metrics, operator page); 0 turns it off. Default: 8080 + (silo port - 11111)."),
    ];

    /// <summary>Flags and the configuration keys they set.</summary>
    public static readonly IReadOnlyDictionary<string, string> Flags = FlagList.ToDictionary(f => f.Name, f => f.Key, StringComparer.Ordinal);

    /// <summary>The configuration sections of ours the silo binds; a key in one of them that no settings type has stops the silo.</summary>
    public static readonly IReadOnlyList<SettingsSection> Sections =
    [
        ClusterSettings.Section,
        SiloSettings.Section,
        StreamSettings.Section,
        FailureDetectionSettings.Section,
        MessagingSettings.Section,
        MessagingSettings.FaultsSection,
        StorageSettings.Section,
        FaultInjectionSettings.Section,
        Http.HttpSettings.Section,
        Http.TelemetrySettings.Section,
    ];

    /// <summary>
    /// Parses the command line. <c>--help</c> writes the usage to <paramref name="output"/> (exit 0);
    /// an unknown verb or flag, a flag without a value or a malformed setting writes one line to
    /// <paramref name="error"/> (exit 2).
    /// </summary>
    public static Invocation Parse(string[] args, TextWriter output, TextWriter error)
    {
        // --Section:Key value pairs are taken out first: System.CommandLine knows only the flags,
        // and would take a value such as "health" for a verb.
        var rest = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal) || (!arg.Contains(':') && !arg.Contains('=')))
            {
                rest.Add(arg);
                continue;
            }

            if (!SettingKey().IsMatch(arg))
            {
                return Refuse(error, $"malformed argument '{arg}': give a flag and its value as two arguments, a setting as --Section:Key value (see --help).");
            }

            if (i + 1 >= args.Length || args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                return Refuse(error, $"flag '{arg}' needs a value.");
            }

            i++;
        }

        var root = CreateRoot();
        var parse = root.Parse(rest, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parse.UnmatchedTokens.Count > 0)
        {
            var token = parse.UnmatchedTokens[0];
            return Refuse(error, token.StartsWith('-')
                ? $"unknown argument '{token}'; flags: {string.Join(", ", Flags.Keys)}, or --Section:Key value (see --help)."
                : $"unknown command or argument '{token}'; commands: migrate, health (none runs the silo); see --help.");
        }

        if (parse.Errors.Count > 0)
        {
            return Refuse(error, $"{parse.Errors[0].Message.TrimEnd('.')} (see --help).");
        }

        if (parse.Action is not null && parse.Action != parse.CommandResult.Command.Action)
        {
            // --help or --version.
            return new Invocation(null, args, parse.Invoke(new InvocationConfiguration { Output = output, Error = error }));
        }

        var command = parse.CommandResult.Command;
        var verb = command == root ? null : command.Name;
        if (verb is not null && args[0] != verb)
        {
            return Refuse(error, $"the command '{verb}' comes first: ExactlyOnce.Silo {verb} [flags].");
        }

        return new Invocation(verb, verb is null ? args : args[1..], null);
    }

    /// <summary>Reads the sources: appsettings.json next to the binary, environment variables, then <paramref name="args"/> (from <see cref="Invocation.Options"/>).</summary>
    public static IConfiguration BuildConfiguration(string[] args)
    {
        var configuration = new ConfigurationManager();
        configuration.SetBasePath(AppContext.BaseDirectory);
        configuration.AddJsonFile("appsettings.json", optional: true);
        configuration.AddEnvironmentVariables();
        configuration.AddCommandLine(args, Flags.ToDictionary(kv => kv.Key, kv => kv.Value));
        return configuration;
    }

    /// <summary>Throws <see cref="ConfigurationException"/> naming the first key under one of <see cref="Sections"/> that no setting has.</summary>
    public static void RequireKnownKeys(IConfiguration configuration) => ConfigurationKeys.RequireKnown(configuration, Sections);

    private static RootCommand CreateRoot()
    {
        var root = new RootCommand(
            "The silo of the exactly-once sample (Orleans, PostgreSQL). Without a command it runs the silo until SIGTERM or Ctrl+C." + Environment.NewLine +
            "Any setting can also be given as --Section:Key value, e.g. --Streams:QueueCount 4 or --FaultInjection:Enabled true " +
            "(README, \"Configuration reference\"); an unknown key in one of the silo's sections stops it." + Environment.NewLine +
            "Exit codes: 0 success, 1 health check failed, 2 usage or configuration error, 3 runtime or infrastructure failure, 130 interrupted (Ctrl+C).");
        foreach (var flag in FlagList)
        {
            root.Options.Add(new Option<string>(flag.Name)
            {
                Description = $"{flag.Description} Sets {flag.Key}.",
                HelpName = flag.ValueName,
                Recursive = true,
            });
        }

        root.SetAction(_ => ExitCodes.Ok);
        var migrate = new Command("migrate", "Apply the schema to the database and exit.");
        migrate.SetAction(_ => ExitCodes.Ok);
        var health = new Command("health", "Exit 0 when this machine's gateway port accepts connections (the container health check), 1 otherwise.");
        health.SetAction(_ => ExitCodes.Ok);
        root.Subcommands.Add(migrate);
        root.Subcommands.Add(health);
        return root;
    }

    private static Invocation Refuse(TextWriter error, string line)
    {
        error.WriteLine($"silo: {line}");
        return new Invocation(null, [], ExitCodes.UsageOrConfiguration);
    }

    /// <summary>--Section:Key or --Section:Nested:Key (e.g. --Logging:LogLevel:Microsoft.Hosting.Lifetime), the form the configuration's command-line source reads.</summary>
    [GeneratedRegex(@"^--[A-Za-z][A-Za-z0-9_]*(:[A-Za-z0-9_.\-]+)+$")]
    private static partial Regex SettingKey();
}
