using Microsoft.EntityFrameworkCore;
using Scheduler.Infrastructure.Auth;
using Scheduler.Modules.Workers.Connections;

namespace Scheduler.Modules.Workers;

/// <summary>The team checks of endpoints that name a connection or a variable (route value <c>name</c>).</summary>
internal static class TeamGates
{
    public static RouteHandlerBuilder RequireConnectionRole(this RouteHandlerBuilder builder, string needed) =>
        builder.RequireTeamRole(needed, async context =>
        {
            var http = context.HttpContext;
            var name = http.GetRouteValue("name") as string;
            var found = await http.RequestServices.GetRequiredService<ConnectionsDbContext>().Connections.AsNoTracking()
                .Where(c => c.Name == name).Select(c => new { c.Team }).SingleOrDefaultAsync(http.RequestAborted);
            return found is null ? null : new TeamOwner(found.Team, $"No connection named '{name}'.");
        });

    public static RouteHandlerBuilder RequireVariableRole(this RouteHandlerBuilder builder, string needed) =>
        builder.RequireTeamRole(needed, async context =>
        {
            var http = context.HttpContext;
            var name = http.GetRouteValue("name") as string;
            var found = await http.RequestServices.GetRequiredService<ConnectionsDbContext>().Variables.AsNoTracking()
                .Where(v => v.Name == name).Select(v => new { v.Team }).SingleOrDefaultAsync(http.RequestAborted);
            return found is null ? null : new TeamOwner(found.Team, $"No variable named '{name}'.");
        });
}
