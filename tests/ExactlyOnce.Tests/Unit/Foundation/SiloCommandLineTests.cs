using ExactlyOnce.Hosting;
using ExactlyOnce.Silo;

namespace ExactlyOnce.Tests.Foundation;

/// <summary>The silo's command line: verbs, flags, --help, --Section:Key value (no process).</summary>
[Trait("Kind", "Unit")]
public sealed class SiloCommandLineTests
{
    [Fact]
    public void Should_print_the_verbs_and_every_flag_with_its_description_on_help()
    {
        var (invocation, output, error) = Parse("--help");

        Assert.Equal(ExitCodes.Ok, invocation.ExitCode);
        Assert.Empty(error);
        Assert.Contains("migrate", output);
        Assert.Contains("health", output);
        Assert.Contains("--Section:Key value", output);
        foreach (var flag in SiloCommandLine.FlagList)
        {
            var line = output.Split('\n').SingleOrDefault(l => l.TrimStart().StartsWith(flag.Name + " ", StringComparison.Ordinal));
            Assert.True(line is not null, $"{flag.Name} missing from:\n{output}");
            Assert.Contains(flag.Description[..20], line);
        }
    }

    [Fact]
    public void Should_map_the_http_port_flag_to_its_key()
    {
        Assert.Equal("Http:Port", SiloCommandLine.Flags["--http-port"]);
        var configuration = SiloCommandLine.BuildConfiguration(["--http-port", "8081"]);
        Assert.Equal("8081", configuration["Http:Port"]);
    }

    [Fact]
    public void Should_run_the_silo_with_flags_and_settings_in_any_order()
    {
        string[] args = ["--silo-port", "1", "--Streams:QueueCount", "4", "--Faults:0", "after-commit=0.1", "--gateway-port", "2", "--Messaging:Recoverability:DelayedRetries", "-1", "--Logging:LogLevel:Microsoft.Hosting.Lifetime", "Warning"];
        var (invocation, output, error) = Parse(args);

        Assert.Null(invocation.ExitCode);
        Assert.Null(invocation.Verb);
        Assert.Equal(args, invocation.Options);
        Assert.Empty(output + error);
        var configuration = SiloCommandLine.BuildConfiguration(invocation.Options);
        Assert.Equal("1", configuration["Silo:SiloPort"]);
        Assert.Equal("2", configuration["Silo:GatewayPort"]);
        Assert.Equal("4", configuration["Streams:QueueCount"]);
        Assert.Equal("after-commit=0.1", configuration["Faults:0"]);
        Assert.Equal("-1", configuration["Messaging:Recoverability:DelayedRetries"]);
        Assert.Equal("Warning", configuration["Logging:LogLevel:Microsoft.Hosting.Lifetime"]);
    }

    [Theory]
    [InlineData("migrate")]
    [InlineData("health")]
    public void Should_take_a_verb_first_with_its_flags(string verb)
    {
        var (invocation, _, error) = Parse(verb, "--gateway-port", "30001", "--Cluster:ClusterId", "health");

        Assert.Null(invocation.ExitCode);
        Assert.Equal(verb, invocation.Verb);
        Assert.Equal(["--gateway-port", "30001", "--Cluster:ClusterId", "health"], invocation.Options);
        Assert.Empty(error);
    }

    [Theory]
    [InlineData("silo: unknown argument '--silo-prot'", "--silo-prot", "1")]
    [InlineData("silo: unknown command or argument 'frobnicate'", "frobnicate")]
    [InlineData("silo: unknown command or argument 'extra'", "migrate", "extra")]
    [InlineData("silo: flag '--Streams:QueueCount' needs a value.", "--Streams:QueueCount")]
    [InlineData("silo: flag '--Streams:QueueCount' needs a value.", "--Streams:QueueCount", "--silo-port", "1")]
    [InlineData("silo: malformed argument '--silo-port=5'", "--silo-port=5")]
    [InlineData("silo: malformed argument '--Streams:'", "--Streams:", "4")]
    [InlineData("'--silo-port'", "--silo-port")]
    [InlineData("silo: the command 'migrate' comes first", "--silo-port", "1", "migrate")]
    public void Should_refuse_bad_usage_with_one_line_and_exit_2(string expected, params string[] args)
    {
        var (invocation, output, error) = Parse(args);

        Assert.Equal(ExitCodes.UsageOrConfiguration, invocation.ExitCode);
        Assert.Empty(output);
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, error);
        Assert.StartsWith("silo: ", lines[0]);
        Assert.Contains(expected, lines[0]);
    }

    private static (SiloCommandLine.Invocation Invocation, string Output, string Error) Parse(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var invocation = SiloCommandLine.Parse(args, output, error);
        return (invocation, output.ToString(), error.ToString());
    }
}
