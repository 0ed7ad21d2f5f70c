using System.Diagnostics;
using ExactlyOnce.Hosting;
using Npgsql;

namespace ExactlyOnce.Tests.Foundation;

/// <summary>
/// Each configuration mistake gives one line naming the problem, never a stack trace, and exit 2; a
/// database that cannot be reached or refuses the login, exit 3 (README, "Exit codes").
/// </summary>
[Trait("Category", "Integration")]
[Trait("Kind", "Process")]
public sealed class When_the_silo_is_badly_configured
{
    private static readonly NpgsqlConnectionStringBuilder Server = new(TestDatabase.ServerConnectionString);

    [Fact]
    public async Task Should_name_the_server_when_it_is_unreachable()
    {
        var port = SiloProcess.FreePort();
        var (code, stderr) = await RunSiloAsync($"Host=127.0.0.1;Port={port};Database=orleans;Username=postgres;Password=x;Timeout=3");
        AssertOneLineError(code, stderr, $"127.0.0.1:{port}", ExitCodes.RuntimeFailure);
    }

    [Fact]
    public async Task Should_name_the_user_when_the_password_is_wrong()
    {
        var cs = new NpgsqlConnectionStringBuilder(Server.ConnectionString) { Password = "definitely-wrong" };
        var (code, stderr) = await RunSiloAsync(cs.ConnectionString);
        AssertOneLineError(code, stderr, $"user '{Server.Username}'", ExitCodes.RuntimeFailure);
    }

    [Fact]
    public async Task Should_name_the_database_when_it_does_not_exist()
    {
        var cs = new NpgsqlConnectionStringBuilder(Server.ConnectionString) { Database = "no_such_database_here" };
        var (code, stderr) = await RunSiloAsync(cs.ConnectionString);
        AssertOneLineError(code, stderr, "no database 'no_such_database_here'", ExitCodes.RuntimeFailure);
    }

    [Fact]
    public async Task Should_say_the_connection_string_is_malformed()
    {
        var (code, stderr) = await RunSiloAsync("Host=127.0.0.1;Port=notanumber;;=oops");
        AssertOneLineError(code, stderr, "ConnectionStrings:Orleans is malformed", ExitCodes.UsageOrConfiguration);
    }

    [Fact]
    public async Task Should_reject_an_unknown_flag()
    {
        var (code, stderr) = await RunSiloAsync(TestDatabase.ServerConnectionString, "--silo-prot", "1");
        AssertOneLineError(code, stderr, "unknown argument '--silo-prot'", ExitCodes.UsageOrConfiguration);
    }

    [Fact]
    public async Task Should_reject_a_log_format_it_does_not_know()
    {
        var (code, stderr) = await RunSiloAsync(TestDatabase.ServerConnectionString, "--log-format", "xml");
        AssertOneLineError(code, stderr, "Silo:LogFormat must be simple or json, not 'xml'.", ExitCodes.UsageOrConfiguration);
    }

    [Fact]
    public async Task Should_reject_a_dashboard_switch_that_is_not_a_boolean()
    {
        var (code, stderr) = await RunSiloAsync(TestDatabase.ServerConnectionString, "--Http:Dashboard", "maybe");
        AssertOneLineError(code, stderr, "Http:Dashboard must be true or false, not 'maybe'.", ExitCodes.UsageOrConfiguration);
    }

    [Fact]
    public async Task Should_reject_a_visibility_timeout_too_close_to_the_delivery_time()
    {
        var (code, stderr) = await RunSiloAsync(TestDatabase.ServerConnectionString,
            "--Streams:VisibilityTimeout", "00:00:05", "--Streams:MaxEventDeliveryTime", "00:00:05");
        AssertOneLineError(code, stderr, "Streams:VisibilityTimeout must be at least twice", ExitCodes.UsageOrConfiguration);
    }

    [Theory]
    [InlineData("--Messaging:Recoverability:DelayedRetries", "-1", "Messaging:Recoverability: DelayedRetries must be from 0 to 20")]
    [InlineData("--Messaging:Recoverability:TransientRetryCap", "00:00:00.5", "Messaging:Recoverability: TransientRetryCap must be at least TransientRetryBase")]
    [InlineData("--Messaging:MaxHeldFailures", "5", "Messaging:MaxHeldFailures was replaced by the recoverability policy")]
    public async Task Should_reject_a_recoverability_policy_that_cannot_work(string key, string value, string expected)
    {
        var (code, stderr) = await RunSiloAsync(TestDatabase.ServerConnectionString, key, value);
        AssertOneLineError(code, stderr, expected, ExitCodes.UsageOrConfiguration);
    }

    [Fact]
    public async Task Should_refuse_a_configured_crash_fault_without_its_own_switch()
    {
        var (code, stderr) = await RunSiloAsync(TestDatabase.ServerConnectionString,
            "--Faults:0", "after-commit=0.5:crash", "--FaultInjection:Enabled", "true");
        AssertOneLineError(code, stderr, "Faults:0 is a crash rule: it also needs FaultInjection:AllowCrash=true.", ExitCodes.UsageOrConfiguration);
    }

    [Fact]
    public async Task Should_reject_an_unknown_key_in_one_of_its_sections_naming_the_known_ones()
    {
        var (code, stderr) = await RunSiloAsync(TestDatabase.ServerConnectionString, "--Streams:MaxAtempts", "50");
        AssertOneLineError(code, stderr,
            "unknown configuration key 'Streams:MaxAtempts'; known keys of Streams: QueueCount, ExpiryTimeout, VisibilityTimeout, PollingPeriod, MaxEventDeliveryTime, MaxAttempts, DeadLetterRetention, StartAgents.",
            ExitCodes.UsageOrConfiguration);
    }

    [Fact]
    public async Task Should_print_its_usage_on_help_and_exit_0()
    {
        var (code, stdout, stderr) = await RunSiloFullAsync(["--help"]);

        Assert.True(code == ExitCodes.Ok, $"exit {code}\n{stdout}\n{stderr}");
        Assert.Empty(stderr);
        foreach (var expected in new[] { "migrate", "health", "--Section:Key value", "--silo-port", "--http-port", "--connection-string" })
        {
            Assert.Contains(expected, stdout);
        }

        Assert.DoesNotContain("silo started", stdout);
    }

    private static void AssertOneLineError(int code, string stderr, string expected, int expectedCode)
    {
        Assert.True(code == expectedCode, $"exit code {code}, expected {expectedCode}; stderr:\n{stderr}");
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line on stderr, got:\n{stderr}");
        Assert.StartsWith("silo: ", lines[0]);
        Assert.Contains(expected, lines[0]);
        Assert.DoesNotContain("   at ", stderr);
    }

    private static async Task<(int Code, string Stderr)> RunSiloAsync(string connectionString, params string[] extra)
    {
        var (code, _, stderr) = await RunSiloFullAsync([
            "--connection-string", connectionString,
            "--silo-port", SiloProcess.FreePort().ToString(),
            "--gateway-port", SiloProcess.FreePort().ToString(),
            .. extra]);
        return (code, stderr);
    }

    private static async Task<(int Code, string Stdout, string Stderr)> RunSiloFullAsync(string[] args)
    {
        var run = await ProgramRun.SiloAsync(args);
        return (run.ExitCode, run.Stdout, run.Stderr);
    }
}
