using Scheduler.Modules.Audit.Contracts;

namespace Scheduler.Modules.Audit;

/// <summary>The audit trail (schema <c>audit</c>): the writer other modules call (<see cref="AuditTrail"/>), its list and its retention.</summary>
internal static class AuditModule
{
    public static IServiceCollection AddAudit(this IServiceCollection services)
    {
        services.AddHttpContextAccessor();
        services.AddScoped<AuditTrail>();
        return services;
    }

    public static void MapAudit(this RouteGroupBuilder api)
    {
        var audit = api.MapGroup("/audit").WithTags("Audit");
        ListAudit.Map(audit);
    }
}
