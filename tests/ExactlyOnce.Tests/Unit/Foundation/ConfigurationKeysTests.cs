using ExactlyOnce.Hosting;
using ExactlyOnce.Silo;
using Microsoft.Extensions.Configuration;

namespace ExactlyOnce.Tests.Foundation;

/// <summary>Unknown keys under our own sections are refused, named with the known keys around them (in-memory configuration).</summary>
[Trait("Kind", "Unit")]
public sealed class ConfigurationKeysTests
{
    [Fact]
    public void Should_name_a_misspelt_key_and_the_known_keys_of_its_section()
    {
        var problem = ConfigurationKeys.FindUnknown(Configuration(("Streams:MaxAtempts", "50")), SiloCommandLine.Sections);

        Assert.Equal(
            "unknown configuration key 'Streams:MaxAtempts'; known keys of Streams: QueueCount, ExpiryTimeout, VisibilityTimeout, PollingPeriod, MaxEventDeliveryTime, MaxAttempts, DeadLetterRetention, StartAgents.",
            problem);
    }

    [Fact]
    public void Should_take_every_key_the_settings_have_in_any_case_and_leave_other_sections_alone()
    {
        var configuration = Configuration(
            ("Streams:MaxAttempts", "50"),
            ("streams:queuecount", "4"),
            ("Silo:ShutdownTimeout", "00:00:10"),
            ("Cluster:ClusterId", "c"),
            ("FailureDetection:ProbeTimeout", "00:00:02"),
            ("Messaging:Recoverability:DelayedRetries", "1"),
            ("Messaging:Recoverability:TransientExceptionTypes:0", "System.TimeoutException"),
            ("Messaging:Recoverability:TransientExceptionTypes:1", "System.IO.IOException"),
            ("Storage:StateFormat", "json"),
            ("FaultInjection:Enabled", "true"),
            ("Faults:0", "after-commit=0.1"),
            ("Faults:1", "before-ack=0.1:crash"),
            ("Logging:LogLevel:Default", "Warning"),
            ("Orleans:Anything", "x"),
            ("ConnectionStrings:Orleans", "Host=x"),
            ("ConnectionStrings:Other", "Host=y"));

        Assert.Null(ConfigurationKeys.FindUnknown(configuration, SiloCommandLine.Sections));
    }

    [Theory]
    [InlineData("Messaging:Recoverability:DelayedRetrys", "unknown configuration key 'Messaging:Recoverability:DelayedRetrys'; known keys of Messaging:Recoverability: ImmediateRetries, DelayedRetries,")]
    [InlineData("Messaging:Faults:0", "unknown configuration key 'Messaging:Faults'; known keys of Messaging: InboxSafetyMargin,")]
    [InlineData("Cluster:ConnectionString", "unknown configuration key 'Cluster:ConnectionString'; known keys of Cluster: ClusterId, ServiceId.")]
    [InlineData("Faults:first", "unknown configuration key 'Faults:first': Faults is a list, its keys are 0, 1, 2, ...")]
    [InlineData("Faults:0:Point", "unknown configuration key 'Faults:0:Point': Faults:0 takes a single value.")]
    [InlineData("Messaging:Recoverability:TransientExceptionTypes:x", "unknown configuration key 'Messaging:Recoverability:TransientExceptionTypes:x': Messaging:Recoverability:TransientExceptionTypes is a list")]
    [InlineData("Streams:QueueCount:Min", "unknown configuration key 'Streams:QueueCount:Min': Streams:QueueCount takes a single value.")]
    [InlineData("FaultInjection:AllowCrashes", "unknown configuration key 'FaultInjection:AllowCrashes'; known keys of FaultInjection: Enabled, AllowCrash.")]
    [InlineData("Storage:Format", "unknown configuration key 'Storage:Format'; known keys of Storage: StateFormat.")]
    [InlineData("Silo:Port", "unknown configuration key 'Silo:Port'; known keys of Silo: SiloPort, GatewayPort, AdvertisedAddress, ApplySchema, ShutdownTimeout, LogFormat.")]
    [InlineData("FailureDetection:ProbeTimeOut:x", "unknown configuration key 'FailureDetection:ProbeTimeOut:x': FailureDetection:ProbeTimeOut takes a single value.")]
    public void Should_follow_nested_settings_lists_and_single_values(string key, string expected)
    {
        var problem = ConfigurationKeys.FindUnknown(Configuration((key, "1")), SiloCommandLine.Sections);

        Assert.NotNull(problem);
        Assert.StartsWith(expected, problem);
    }

    [Fact]
    public void Should_check_only_the_sections_it_is_given()
    {
        // The client binds Cluster and Streams alone: a silo's setting in the same environment is not its business.
        var configuration = Configuration(("Messaging:Whatever", "1"), ("Silo:Port", "1"));

        Assert.Null(ConfigurationKeys.FindUnknown(configuration, ClusterConnection.Sections));
        Assert.NotNull(ConfigurationKeys.FindUnknown(Configuration(("Streams:Queues", "1")), ClusterConnection.Sections));
    }

    [Fact]
    public void Should_take_any_key_of_a_dictionary_and_check_its_values()
    {
        SettingsSection[] sections = [new("Routes", typeof(Dictionary<string, RouteSettings>))];

        Assert.Null(ConfigurationKeys.FindUnknown(Configuration(("Routes:north:Weight", "3"), ("Routes:South:weight", "1")), sections));
        Assert.Equal(
            "unknown configuration key 'Routes:north:Wieght'; known keys of Routes:north: Weight, Tags.",
            ConfigurationKeys.FindUnknown(Configuration(("Routes:north:Wieght", "3")), sections));
        Assert.Null(ConfigurationKeys.FindUnknown(Configuration(("Routes:north:Tags:0", "a")), sections));
    }

    [Fact]
    public void Should_refuse_through_a_configuration_exception_with_exit_code_2()
    {
        var ex = Assert.Throws<ConfigurationException>(() => SiloCommandLine.RequireKnownKeys(Configuration(("Streams:MaxAtempts", "50"))));

        Assert.Equal(ExitCodes.UsageOrConfiguration, ex.ExitCode);
        Assert.Contains("'Streams:MaxAtempts'", ex.Message);
        SiloCommandLine.RequireKnownKeys(Configuration(("Streams:MaxAttempts", "50")));
    }

    /// <summary>A nested settings type with a get-only list (bound into, so its key is known).</summary>
    public sealed class RouteSettings
    {
        public int Weight { get; set; }

        public List<string> Tags { get; } = [];

        public int Computed => Weight * 2;
    }

    private static IConfiguration Configuration(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();
}
