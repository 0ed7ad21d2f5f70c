using ExactlyOnce.Grains;
using ExactlyOnce.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace ExactlyOnce.Tests.Foundation;

/// <summary>The Streams section's polling period: its default, its bounds, and that it reaches the pulling agents.</summary>
[Trait("Kind", "Integration")]
public sealed class StreamSettingsTests
{
    [Fact]
    public void Should_poll_every_100_ms_by_default()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(100), StreamSettings.From(Configuration()).PollingPeriod);
    }

    [Theory]
    [InlineData("00:00:00.005")]
    [InlineData("00:01:01")]
    public void Should_reject_a_polling_period_out_of_bounds(string value)
    {
        var ex = Assert.Throws<ConfigurationException>(() => StreamSettings.From(Configuration(("Streams:PollingPeriod", value))));
        Assert.Equal("Streams:PollingPeriod must be between 10 ms and 1 minute.", ex.Message);
    }

    [Fact]
    public void Should_give_the_polling_period_to_the_pulling_agents_of_the_durable_provider()
    {
        var settings = StreamSettings.From(Configuration(("Streams:PollingPeriod", "00:00:00.025")));
        using var host = Host.CreateDefaultBuilder()
            .UseOrleans(silo => silo.UseLocalhostClustering().AddDurableStreams("Host=localhost;Username=nobody", settings))
            .Build();

        var agents = host.Services.GetRequiredService<IOptionsMonitor<StreamPullingAgentOptions>>().Get(OrleansNames.StreamProvider);
        Assert.Equal(TimeSpan.FromMilliseconds(25), agents.GetQueueMsgsTimerPeriod);
    }

    private static IConfiguration Configuration(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value)))
            .Build();
}
