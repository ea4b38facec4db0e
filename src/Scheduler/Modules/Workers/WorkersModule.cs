using Scheduler.Abstractions;
using Scheduler.Modules.Workers.Executors;
using Scheduler.Modules.Workers.Pool;

namespace Scheduler.Modules.Workers;

internal static class WorkersModule
{
    public static IServiceCollection AddWorkers(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<WorkerOptions>(configuration.GetSection("Workers"));
        services.AddSingleton<ExecutorRegistry>();
        services.AddSingleton<IConnectionResolver, NoConnections>();
        services.AddSingleton<WorkerPool>();
        services.AddHostedService(sp => sp.GetRequiredService<WorkerPool>());
        return services;
    }

    public static void MapWorkers(this RouteGroupBuilder api) => ListWorkers.Map(api);
}
