using Serilog;
using Serilog.Formatting.Compact;

namespace Scheduler.Infrastructure.Logging;

/// <summary>
/// Serilog everywhere: readable console lines in Development, compact JSON (one event per
/// line, for log shippers) elsewhere. Levels and overrides come from the Serilog section.
/// </summary>
internal static class LoggingSetup
{
    public static void AddLogging(this WebApplicationBuilder builder)
    {
        var development = builder.Environment.IsDevelopment();
        builder.Services.AddSerilog((services, logger) =>
        {
            logger.ReadFrom.Configuration(builder.Configuration)
                .ReadFrom.Services(services)
                .Enrich.FromLogContext();
            if (development)
                logger.WriteTo.Console(outputTemplate: "[{Timestamp:HH:mm:ss} {Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}");
            else
                logger.WriteTo.Console(new RenderedCompactJsonFormatter());
        });
    }
}
