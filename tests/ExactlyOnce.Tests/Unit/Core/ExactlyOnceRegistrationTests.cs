using ExactlyOnce.Faults;
using ExactlyOnce.Messaging;
using ExactlyOnce.PostgreSql;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace ExactlyOnce.Tests.Core;

/// <summary>The library's silo registration: options through IOptions (validated), fault injection off unless added.</summary>
[Trait("Kind", "Unit")]
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
        silo.AddExactlyOncePostgreSql(o => o.ConnectionString = "Host=localhost");
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
        silo.AddExactlyOncePostgreSql(o => o.ConnectionString = "Host=localhost");
        using var services = silo.Services.BuildServiceProvider();

        // What the host runs at start (ValidateOnStart).
        var refused = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IStartupValidator>().Validate());

        Assert.Equal("MessagingOptions: OutboxFlushPeriod must be at least 1 minute (Orleans' shortest reminder period)", refused.Message);
    }

    [Fact]
    public void Should_refuse_to_start_a_silo_that_has_no_stores_with_one_line_saying_which_registration_is_missing()
    {
        var silo = new Silo();
        silo.AddExactlyOnceMessaging();
        using var services = silo.Services.BuildServiceProvider();

        var refused = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IStartupValidator>().Validate());

        Assert.Equal(
            "ExactlyOnce messaging has no stores: add a store package's registration, e.g. siloBuilder.AddExactlyOncePostgreSql(o => o.ConnectionString = ...) from ExactlyOnce.Orleans.PostgreSql",
            refused.Message);
    }

    [Fact]
    public void Should_register_the_PostgreSQL_stores_and_refuse_them_without_a_connection_string()
    {
        var silo = new Silo();
        silo.AddExactlyOnceMessaging();
        silo.AddExactlyOncePostgreSql(o => o.ClientOutboxSweepAge = TimeSpan.FromSeconds(5));
        using var services = silo.Services.BuildServiceProvider();

        var registered = services.GetRequiredService<IServiceProviderIsService>();
        Assert.All(new[] { typeof(IDeadLetterSink), typeof(IParkingLot), typeof(IProducerIncarnations), typeof(ClientOutbox) }, t => Assert.True(registered.IsService(t), t.Name));
        var refused = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IStartupValidator>().Validate());
        Assert.Equal("PostgresMessagingOptions: ConnectionString is required", refused.Message);
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
