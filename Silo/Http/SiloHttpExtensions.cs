using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Orleans.Hosting;
using Orleans.Runtime;

namespace ExactlyOnce.Silo.Http;

/// <summary>Registers the silo's HTTP endpoint and telemetry (Silo/Http).</summary>
public static class SiloHttpExtensions
{
    /// <summary>The meter Orleans records its own metrics on.</summary>
    public const string OrleansMeterName = "Microsoft.Orleans";

    /// <summary>
    /// The readiness checks, the HTTP endpoint when <see cref="HttpSettings.Enabled"/>, the
    /// Prometheus exporter behind it, and OTLP export of metrics and traces when
    /// <see cref="TelemetrySettings.OtlpEndpoint"/> is set. Call before <c>UseOrleans</c>: the
    /// endpoint must start before the silo and stop after it. Throws <see cref="ExactlyOnce.Hosting.ProgramException"/>
    /// when another process listens on the HTTP port.
    /// </summary>
    public static IServiceCollection AddSiloHttpEndpoint(this IServiceCollection services, HttpSettings http, TelemetrySettings telemetry, string connectionString)
    {
        services.AddSingleton(new DatabaseCheck(connectionString));
        services.AddSingleton<PullingAgentGauge>();
        services.AddSingleton<StreamProviderProbe>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<StreamProviderProbe>());
        services.AddSingleton<StreamAgentsCheck>();
        // The operator page's figures: this silo's meter, read from its first message on, and
        // answered per silo by a grain service (OperatorPage).
        services.AddSingleton<PipelineMeterReader>();
        services.AddHostedService<PipelineMeterReaderStarter>();
        services.AddGrainService<PipelineSnapshotService>();
        services.AddSingleton<PipelineSnapshotClient>();
        services.AddSingleton(new OperatorPageDatabase(connectionString));

        if (http.Enabled || telemetry.OtlpEndpoint is not null)
        {
            var otel = services.AddOpenTelemetry()
                .ConfigureResource(resource => resource.AddService("ExactlyOnce.Silo", serviceInstanceId: $"{Environment.MachineName}/{Environment.ProcessId}"))
                .WithMetrics(metrics =>
                {
                    metrics.AddMeter(OrleansMeterName, ExactlyOnceNames.Meter);
                    if (http.Enabled)
                    {
                        metrics.AddPrometheusExporter();
                    }

                    if (telemetry.OtlpEndpoint is { } endpoint)
                    {
                        metrics.AddOtlpExporter(o => o.Endpoint = endpoint);
                    }
                });
            if (telemetry.OtlpEndpoint is { } traces)
            {
                otel.WithTracing(tracing => tracing
                    .AddSource(ExactlyOnceNames.Meter)
                    .AddOtlpExporter(o => o.Endpoint = traces));
            }
        }

        if (http.Enabled)
        {
            http.EnsurePortIsFree();
            services.AddSingleton(http);
            services.AddHostedService<SiloHttpEndpoint>();
        }

        return services;
    }
}
