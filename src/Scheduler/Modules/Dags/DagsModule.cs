using Mediator;
using Microsoft.EntityFrameworkCore;
using Scheduler.Infrastructure.Database;
using Scheduler.Modules.Dags.Definitions;
using Scheduler.Modules.Dags.Git;
using Scheduler.Modules.Workers.Contracts;

namespace Scheduler.Modules.Dags;

internal static class DagsModule
{
    public static IServiceCollection AddDags(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddModuleDbContext<DagsDbContext>();
        services.Configure<GitOptions>(configuration.GetSection(GitOptions.Section));
        services.AddSingleton<GitImporter>();
        services.AddHostedService<GitPoller>();
        services.AddScoped<ITaskTypeSource, TaskTypesFromWorkers>();
        services.AddScoped<DagDefinitionValidator>();
        services.AddScoped<ScheduleRulesValidator>();
        services.AddScoped<ICalendarNames, StoredCalendarNames>();
        services.AddSingleton<Calendars.CalendarCache>();
        return services;
    }

    /// <summary>gRPC <c>DagService</c> (protos/dags.proto), on the gRPC port.</summary>
    public static void MapDagsRpc(this IEndpointRouteBuilder rpc) => rpc.MapGrpcService<DagRpcService>();

    public static void MapDags(this RouteGroupBuilder api)
    {
        var dags = api.MapGroup("/dags").WithTags("DAGs");
        ListImportErrors.Map(dags);
        SyncDags.Map(dags);
        ListDags.Map(dags);
        CreateDag.Map(dags);
        ValidateDag.Map(dags);
        GetDag.Map(dags);
        UpsertDag.Map(dags);
        DeleteDag.Map(dags);
        PauseDag.Map(dags);
        ListDagVersions.Map(dags);
        GetDagSchedule.Map(dags);

        var calendars = api.MapGroup("/calendars").WithTags("Calendars");
        Calendars.ListCalendars.Map(calendars);
        Calendars.GetCalendar.Map(calendars);
        Calendars.SaveCalendar.Map(calendars);
        Calendars.DeleteCalendar.Map(calendars);
    }

    /// <summary>Task types are owned by the Workers module (executors and plugins).</summary>
    private sealed class TaskTypesFromWorkers(ISender sender) : ITaskTypeSource
    {
        public ValueTask<IReadOnlySet<string>> GetTypesAsync(CancellationToken cancellationToken) =>
            sender.Send(new GetTaskTypes(), cancellationToken);
    }
}
