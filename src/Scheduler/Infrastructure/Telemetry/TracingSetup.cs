using Npgsql;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Scheduler.Infrastructure.Telemetry;

/// <summary>
/// OpenTelemetry tracing, configured by the standard <c>OTEL_*</c> variables (service name,
/// resource attributes, sampler, batch processor, OTLP endpoint, protocol and headers). Spans
/// are recorded and exported only when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set (or
/// <c>Tracing:Enabled</c> is true); otherwise nothing listens and tracing costs nothing but
/// the ids a run carries (<see cref="RunTracing"/>).
/// </summary>
internal static class TracingSetup
{
    public static bool Enabled(IConfiguration configuration) =>
        configuration.GetValue<bool?>("Tracing:Enabled") ?? !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);

    public static IServiceCollection AddTracing(this IServiceCollection services, IConfiguration configuration)
    {
        // The service's name for traces and metrics alike (target_info on /metrics).
        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(configuration["OTEL_SERVICE_NAME"] ?? "scheduler"));
        if (!Enabled(configuration))
            return services;
        telemetry.WithTracing(tracing =>
            {
                tracing.AddSource(RunTracing.SourceName)
                    // Probes and scrapes are not worth a trace each.
                    .AddAspNetCoreInstrumentation(o => o.Filter = http => !http.Request.Path.StartsWithSegments("/health") && !http.Request.Path.StartsWithSegments("/metrics"))
                    .AddHttpClientInstrumentation()
                    .AddNpgsql()
                    .AddOtlpExporter();
            });
        return services;
    }

    /// <summary>
    /// The engine's own statements are traced only inside a span (a request, an attempt): the
    /// claim, heartbeat and maintenance loops run thousands of statements a minute that belong
    /// to no run, and each would be a trace of its own.
    /// </summary>
    public static NpgsqlDataSourceBuilder TraceOnlyInsideSpans(this NpgsqlDataSourceBuilder builder) =>
        builder.ConfigureTracing(o => o
            .ConfigureCommandFilter(_ => System.Diagnostics.Activity.Current is not null)
            .ConfigureBatchFilter(_ => System.Diagnostics.Activity.Current is not null)
            .EnableFirstResponseEvent(false));
}
