using ExactlyOnce.Faults;
using ExactlyOnce.Messaging;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace ExactlyOnce.Tests.Core;

/// <summary>The library's silo registration: options through IOptions (validated), fault injection off unless added.</summary>
public sealed class ExactlyOnceRegistrationTests
{
    private sealed class Silo : ISiloBuilder
    {
        public IServiceCollection Services { get; } = new ServiceCollection().AddLogging();

        public IConfiguration Configuration { get; } = new ConfigurationBuilder().Build();
    }

    [Fact]
    public void Should_take_the_options_given_and_a_later_Configure_too()
    {
        var silo = new Silo();
        silo.AddExactlyOnceMessaging(o => o.MaxHeldPerProducer = 10);
        silo.Services.Configure<MessagingOptions>(o => o.MaxHeldPerComponent = 500);

        var options = silo.Services.BuildServiceProvider().GetRequiredService<IOptions<MessagingOptions>>().Value;

        Assert.Equal((10, 500), (options.MaxHeldPerProducer, options.MaxHeldPerComponent));
        Assert.Equal(ExactlyOnceNames.StreamProvider, options.StreamProvider);
    }

    [Fact]
    public void Should_refuse_options_that_cannot_work_when_the_silo_starts_with_one_line_naming_the_option()
    {
        var silo = new Silo();
        silo.AddExactlyOnceMessaging(o => o.OutboxFlushPeriod = TimeSpan.FromSeconds(10));
        using var services = silo.Services.BuildServiceProvider();

        // What the host runs at start (ValidateOnStart).
        var refused = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IStartupValidator>().Validate());

        Assert.Equal("MessagingOptions: OutboxFlushPeriod must be at least 1 minute (Orleans' shortest reminder period)", refused.Message);
    }

    [Fact]
    public void Should_leave_fault_injection_off_unless_it_is_added()
    {
        var silo = new Silo();
        silo.AddExactlyOnceMessaging();
        using (var services = silo.Services.BuildServiceProvider())
        {
            Assert.Equal(FaultInjectionPolicy.Off, services.GetRequiredService<FaultInjectionPolicy>());
            Assert.IsType<FaultInjector>(services.GetRequiredService<IFaultInjector>());
            Assert.DoesNotContain(silo.Services, d => d.ImplementationType == typeof(FaultSettingsPoller) || d.ServiceType == typeof(IHostedService));
        }

        silo.AddExactlyOnceFaultInjection(new FaultInjectionPolicy(Enabled: true, AllowCrash: false), [FaultRule.Parse("after-commit=0.5:throw")]);
        using (var services = silo.Services.BuildServiceProvider())
        {
            Assert.Equal(new FaultInjectionPolicy(true, false), services.GetRequiredService<FaultInjectionPolicy>());
            Assert.Contains(silo.Services, d => d.ServiceType == typeof(IHostedService));
        }
    }

    [Fact]
    public void Should_refuse_a_configured_crash_rule_the_policy_does_not_allow()
    {
        var refused = Assert.Throws<ArgumentException>(() => new Silo().AddExactlyOnceFaultInjection(
            new FaultInjectionPolicy(Enabled: true, AllowCrash: false), [FaultRule.Parse("after-commit=0.5:crash")]));

        Assert.StartsWith("configured fault rules refused: crash faults are refused", refused.Message);
    }
}
