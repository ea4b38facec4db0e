using Scheduler.Infrastructure.Database;
using Scheduler.Modules.Runs.Engine;
using Scheduler.Modules.Runs.Figures;

namespace Scheduler.Modules.Runs;

internal static class RunsModule
{
    public static IServiceCollection AddRuns(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddModuleDbContext<RunsDbContext>();
        services.AddSingleton(EngineOptions.From(configuration));
        services.AddScoped<RunUnitOfWork>();
        services.AddScoped<RunCreator>();
        services.AddScoped<TaskClaims>();
        services.AddScoped<TaskCompletion>();
        services.AddScoped<QueueMaintenance>();
        services.AddScoped<RunOperations>();
        services.AddScoped<WaitWakeups>();
        services.AddScoped<Backfills.BackfillRuns>();
        services.AddSingleton<TriggerBatcher>();
        services.AddSingleton<Events.EventHub>();
        services.AddHostedService(sp => sp.GetRequiredService<Events.EventHub>());
        services.AddSingleton<MinuteFigures>();
        services.AddHostedService(sp => sp.GetRequiredService<MinuteFigures>());
        if (configuration.GetValue("Scheduler:Enabled", true))
        {
            services.AddSingleton<SchedulerLoop>();
            services.AddHostedService(sp => sp.GetRequiredService<SchedulerLoop>());
        }
        return services;
    }

    /// <summary>gRPC <c>RunService</c> (protos/runs.proto), on the gRPC port.</summary>
    public static void MapRunsRpc(this IEndpointRouteBuilder rpc) => rpc.MapGrpcService<RunRpcService>();

    public static void MapRuns(this RouteGroupBuilder api)
    {
        TriggerDagRun.Map(api);
        ListDagRuns.Map(api);
        GetRun.Map(api);
        CancelRun.Map(api);
        ClearTask.Map(api);
        MarkTask.Map(api);
        SignalTask.Map(api);
        GetTaskLog.Map(api);
        GetTaskOutput.Map(api);
        ListDeadLetters.Map(api);
        RequeueDeadLetter.Map(api);
        ListPools.Map(api);
        UpsertPool.Map(api);
        Backfills.StartBackfill.Map(api);
        Backfills.ListBackfills.Map(api);
        Backfills.GetBackfill.Map(api);
        Backfills.CancelBackfill.Map(api);
        Events.StreamEvents.Map(api);
        Assets.ListAssets.Map(api);
        Assets.ListAssetEvents.Map(api);
        Assets.PostAssetEvent.Map(api);
    }
}
