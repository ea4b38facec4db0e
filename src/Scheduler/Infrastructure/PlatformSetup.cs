using FluentValidation;
using Mediator;
using Scheduler.Infrastructure.Database;
using Scheduler.Infrastructure.Http;
using Scheduler.Infrastructure.Validation;
using Serilog;

namespace Scheduler.Infrastructure;

internal static class PlatformSetup
{
    public static IServiceCollection AddPlatform(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(TimeProvider.System);
        services.AddDatabase(configuration);
        services.AddMediator(options =>
        {
            options.ServiceLifetime = ServiceLifetime.Scoped;
            options.GenerateTypesAsInternal = true;
            options.PipelineBehaviors = [typeof(ValidationBehavior<,>)];
        });
        services.AddValidatorsFromAssemblyContaining<Program>(ServiceLifetime.Scoped, includeInternalTypes: true);
        services.AddHttpConventions();
        return services;
    }

    public static void UsePlatform(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseSerilogRequestLogging();
    }
}
