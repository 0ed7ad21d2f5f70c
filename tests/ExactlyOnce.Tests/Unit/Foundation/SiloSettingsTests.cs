using ExactlyOnce.Hosting;
using ExactlyOnce.Silo;
using Microsoft.Extensions.Configuration;

namespace ExactlyOnce.Tests.Foundation;

/// <summary>The Silo section's defaults and validation (no process, no database).</summary>
[Trait("Kind", "Unit")]
public sealed class SiloSettingsTests
{
    [Fact]
    public void Should_give_a_graceful_stop_30_s_by_default()
    {
        Assert.Equal(TimeSpan.FromSeconds(30), SiloSettings.From(Configuration()).ShutdownTimeout);
    }

    [Fact]
    public void Should_read_the_shutdown_timeout()
    {
        Assert.Equal(TimeSpan.FromSeconds(10), SiloSettings.From(Configuration(("Silo:ShutdownTimeout", "00:00:10"))).ShutdownTimeout);
    }

    [Theory]
    [InlineData("00:00:00")]
    [InlineData("-00:00:05")]
    public void Should_reject_a_shutdown_timeout_that_is_not_positive(string value)
    {
        var ex = Assert.Throws<ConfigurationException>(() => SiloSettings.From(Configuration(("Silo:ShutdownTimeout", value))));
        Assert.Contains("Silo:ShutdownTimeout must be greater than zero", ex.Message);
    }

    [Theory]
    [InlineData(null, false)]
    [InlineData("simple", false)]
    [InlineData("json", true)]
    [InlineData("JSON", true)]
    public void Should_write_text_log_lines_unless_json_is_asked_for(string? value, bool json)
    {
        var configuration = value is null ? Configuration() : Configuration(("Silo:LogFormat", value));
        Assert.Equal(json, SiloSettings.From(configuration).JsonLogLines);
    }

    [Theory]
    [InlineData("xml")]
    [InlineData("")]
    [InlineData("1")]
    public void Should_reject_a_log_format_it_does_not_know(string value)
    {
        var ex = Assert.Throws<ConfigurationException>(() => SiloSettings.From(Configuration(("Silo:LogFormat", value))));
        Assert.Equal($"Silo:LogFormat must be simple or json, not '{value}'.", ex.Message);
    }

    [Theory]
    [InlineData(null, ExactlyOnce.PostgreSql.StateFormat.Binary)]
    [InlineData("binary", ExactlyOnce.PostgreSql.StateFormat.Binary)]
    [InlineData("JSON", ExactlyOnce.PostgreSql.StateFormat.Json)]
    public void Should_store_state_in_binary_unless_json_is_asked_for(string? value, ExactlyOnce.PostgreSql.StateFormat expected)
    {
        var configuration = value is null ? Configuration() : Configuration(("Storage:StateFormat", value));
        Assert.Equal(expected, ExactlyOnce.Silo.Storage.StorageSettings.From(configuration).StateFormat);
    }

    [Fact]
    public void Should_reject_an_unknown_state_format()
    {
        var ex = Assert.Throws<ConfigurationException>(() => ExactlyOnce.Silo.Storage.StorageSettings.From(Configuration(("Storage:StateFormat", "xml"))));
        Assert.Equal("Storage:StateFormat must be binary or json, not 'xml'.", ex.Message);
    }

    [Fact]
    public void Should_keep_the_send_audit_7_days_and_refuse_less_than_a_minute()
    {
        Assert.Equal(TimeSpan.FromDays(7), MessagingSettings.From(Configuration()).SentRetention);
        var ex = Assert.Throws<ConfigurationException>(() => MessagingSettings.From(Configuration(("Messaging:SentRetention", "00:00:30"))));
        Assert.Equal("Messaging:SentRetention must be at least 1 minute.", ex.Message);
    }

    [Fact]
    public void Should_take_no_fault_rules_by_default()
    {
        var configuration = Configuration();
        var settings = FaultInjectionSettings.From(configuration, MessagingSettings.From(configuration));
        Assert.Equal(ExactlyOnce.Faults.FaultInjectionPolicy.Off, settings.ToPolicy());
    }

    [Theory]
    [InlineData("Faults:0", "after-commit=0.1:throw", null, null, "Faults:0 arms a fault rule, but fault injection is off: set FaultInjection:Enabled=true")]
    [InlineData("Faults:0", "after-commit=0.1:crash", "true", null, "Faults:0 is a crash rule: it also needs FaultInjection:AllowCrash=true.")]
    [InlineData("Faults:0", "after-commit=0.1:throw", null, "true", "FaultInjection:AllowCrash needs FaultInjection:Enabled=true.")]
    public void Should_refuse_configured_faults_the_switches_do_not_allow(string key, string rule, string? enabled, string? allowCrash, string expected)
    {
        var values = new List<(string, string)> { (key, rule) };
        if (enabled is not null)
        {
            values.Add(("FaultInjection:Enabled", enabled));
        }

        if (allowCrash is not null)
        {
            values.Add(("FaultInjection:AllowCrash", allowCrash));
        }

        var configuration = Configuration([.. values]);
        var ex = Assert.Throws<ConfigurationException>(() => FaultInjectionSettings.From(configuration, MessagingSettings.From(configuration)));
        Assert.StartsWith(expected, ex.Message);
    }

    [Fact]
    public void Should_take_a_configured_crash_rule_when_both_switches_are_on()
    {
        var configuration = Configuration(("Faults:0", "after-commit=0.1:crash"), ("FaultInjection:Enabled", "true"), ("FaultInjection:AllowCrash", "true"));
        var settings = FaultInjectionSettings.From(configuration, MessagingSettings.From(configuration));
        Assert.Equal(new ExactlyOnce.Faults.FaultInjectionPolicy(true, true), settings.ToPolicy());
    }

    private static IConfiguration Configuration(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value)))
            .Build();
}
