using System.Diagnostics.Metrics;
using ExactlyOnce.Diagnostics;
using ExactlyOnce.Faults;
using ExactlyOnce.Messaging;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ExactlyOnce;

/// <summary>Silo registration of the exactly-once core.</summary>
public static class ExactlyOnceSiloBuilderExtensions
{
    /// <summary>
    /// Adds what exactly-once components need on a silo: <see cref="MessagingOptions"/> (bound
    /// through <see cref="IOptions{TOptions}"/>, so a later <c>Configure&lt;MessagingOptions&gt;</c>
    /// counts too, and validated when the silo starts), the <see cref="MessagingServices"/>
    /// components receive, and fault injection switched off (see
    /// <see cref="AddExactlyOnceFaultInjection"/>). The stores (dead letters, producer incarnations,
    /// parking table) come from a store package, e.g. <c>siloBuilder.AddExactlyOncePostgreSql(...)</c>
    /// of ExactlyOnce.Orleans.PostgreSql; a silo without them fails to start with one line saying so.
    /// </summary>
    public static ISiloBuilder AddExactlyOnceMessaging(this ISiloBuilder silo, Action<MessagingOptions>? configure = null)
    {
        var services = silo.Services;
        var options = services.AddOptions<MessagingOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MessagingOptions>, MessagingOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MessagingOptions>, StoresRegisteredValidator>());
        options.ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(FaultInjectionPolicy.Off);
        services.TryAddSingleton(sp => new FaultInjector([], sp.GetRequiredService<ILogger<FaultInjector>>()));
        services.TryAddSingleton<IFaultInjector>(sp => sp.GetRequiredService<FaultInjector>());
        services.TryAddSingleton<ISentMessageLog, NoSentMessageLog>();
        services.AddMetrics();
        services.TryAddSingleton(sp => new MessagingMetrics(sp.GetRequiredService<IMeterFactory>(), sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton(sp => new MessagingServices(
            sp.GetRequiredService<IFaultInjector>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IOptions<MessagingOptions>>(),
            sp.GetRequiredService<IDeadLetterSink>(),
            sp.GetRequiredService<ISentMessageLog>(),
            sp.GetRequiredService<IProducerIncarnations>(),
            sp.GetRequiredService<IParkingLot>(),
            sp.GetRequiredService<Orleans.Storage.IGrainStorageSerializer>(),
            sp.GetRequiredService<ILoggerFactory>(),
            sp.GetRequiredService<MessagingMetrics>()));
        return silo;
    }

    /// <summary>
    /// Switches fault injection on as <paramref name="policy"/> allows (for tests, demos and chaos
    /// runs, never in production): <paramref name="configuredRules"/> from the start, and rules a
    /// client arms at run time through <see cref="IFaultControlGrain"/>, polled once a second. A
    /// configured rule the policy does not allow is refused at once.
    /// </summary>
    public static ISiloBuilder AddExactlyOnceFaultInjection(this ISiloBuilder silo, FaultInjectionPolicy policy, IReadOnlyList<FaultRule>? configuredRules = null)
    {
        configuredRules ??= [];
        if (configuredRules.Count > 0 && policy.Refusal(configuredRules) is { } refusal)
        {
            throw new ArgumentException($"configured fault rules refused: {refusal}", nameof(configuredRules));
        }

        var services = silo.Services;
        services.Replace(ServiceDescriptor.Singleton(policy));
        services.Replace(ServiceDescriptor.Singleton(sp => new FaultInjector(configuredRules, sp.GetRequiredService<ILogger<FaultInjector>>())));
        services.TryAddSingleton<IFaultInjector>(sp => sp.GetRequiredService<FaultInjector>());
        if (policy.Enabled)
        {
            // Off, no silo asks the control grain for rules: nothing a client sets can reach it.
            services.AddHostedService<FaultSettingsPoller>();
        }

        return silo;
    }

    /// <summary>Fails the start of a silo that has the core but no store package.</summary>
    private sealed class StoresRegisteredValidator(IServiceProviderIsService services) : IValidateOptions<MessagingOptions>
    {
        public ValidateOptionsResult Validate(string? name, MessagingOptions options)
        {
            var missing = new[] { typeof(IDeadLetterSink), typeof(IParkingLot), typeof(IProducerIncarnations) }.Where(t => !services.IsService(t)).ToList();
            return missing.Count == 0
                ? ValidateOptionsResult.Success
                : ValidateOptionsResult.Fail("ExactlyOnce messaging has no stores: add a store package's registration, e.g. siloBuilder.AddExactlyOncePostgreSql(o => o.ConnectionString = ...) from ExactlyOnce.Orleans.PostgreSql");
        }
    }

    private sealed class MessagingOptionsValidator : IValidateOptions<MessagingOptions>
    {
        public ValidateOptionsResult Validate(string? name, MessagingOptions options) =>
            options.Validate() is { } problem ? ValidateOptionsResult.Fail($"MessagingOptions: {problem}") : ValidateOptionsResult.Success;
    }
}
