using Npgsql;
using OpenTelemetry.Metrics;

namespace Scheduler.Infrastructure.Telemetry;

/// <summary>
/// Prometheus metrics through OpenTelemetry: the scheduler's own Meter
/// (<see cref="SchedulerMetrics"/>, <see cref="ClusterGauges"/>) plus ASP.NET Core, HttpClient,
/// Npgsql, .NET runtime and process metrics, scraped at <c>Metrics:Path</c>
/// (<c>/metrics</c>). <c>Metrics:Enabled=false</c> registers no exporter and no endpoint;
/// the instruments then have no listener and recording costs next to nothing.
/// </summary>
internal static class MetricsSetup
{
    public static bool Enabled(IConfiguration configuration) => configuration.GetValue("Metrics:Enabled", true);

    public static string Path(IConfiguration configuration)
    {
        var path = configuration.GetValue<string>("Metrics:Path");
        return string.IsNullOrWhiteSpace(path) ? "/metrics" : "/" + path.Trim().TrimStart('/');
    }

    public static IServiceCollection AddMetrics(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddMetrics();
        services.AddSingleton<SchedulerMetrics>();
        services.AddSingleton<ClusterGauges>();
        if (!Enabled(configuration))
            return services;
        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(SchedulerMetrics.MeterName)
            .AddAspNetCoreInstrumentation()
            .AddHttpClientInstrumentation()
            .AddNpgsqlInstrumentation()
            .AddRuntimeInstrumentation()
            .AddProcessInstrumentation()
            .AddPrometheusExporter());
        return services;
    }

    /// <summary>
    /// The scrape endpoint: anonymous like the health checks unless <c>Metrics:AllowAnonymous=false</c>
    /// (it shows counts, never names of secrets or data); a caller with team roles only sees its
    /// teams' DAG series (<see cref="MetricsAccess"/>).
    /// </summary>
    public static void MapMetrics(this WebApplication app)
    {
        // The provider first, so it listens before the counters start at zero (a measurement
        // nobody listens to is dropped); then the instruments, so the gauges exist from the
        // first scrape on (a replica without workers may never resolve the engine).
        app.Services.GetService<MeterProvider>();
        app.Services.GetRequiredService<SchedulerMetrics>();
        app.Services.GetRequiredService<ClusterGauges>();
        if (!Enabled(app.Configuration))
            return;
        var allowAnonymous = MetricsAccess.AllowAnonymous(app.Configuration);
        app.MapPrometheusScrapingEndpoint(Path(app.Configuration), meterProvider: null,
            configureBranchedPipeline: branch => branch.UseMetricsAccess(allowAnonymous), optionsName: null).AllowAnonymous();
    }
}
