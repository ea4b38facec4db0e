using Npgsql;
using Scheduler.Infrastructure.Auth;

namespace Scheduler.Modules.Notifications;

/// <summary>The team checks of endpoints that name a channel or a monitor (route value <c>name</c>).</summary>
internal static class TeamGates
{
    public static RouteHandlerBuilder RequireChannelRole(this RouteHandlerBuilder builder, string needed) =>
        builder.RequireTeamRole(needed, context => OwnerAsync(context.HttpContext, "channels", "channel"));

    public static RouteHandlerBuilder RequireMonitorRole(this RouteHandlerBuilder builder, string needed) =>
        builder.RequireTeamRole(needed, context => OwnerAsync(context.HttpContext, "monitors", "monitor"));

    private static async ValueTask<TeamOwner?> OwnerAsync(HttpContext http, string table, string kind)
    {
        var name = http.GetRouteValue("name") as string;
        await using var cmd = http.RequestServices.GetRequiredService<NpgsqlDataSource>()
            .CreateCommand($"select coalesce(team, '') from notifications.{table} where name = @name");
        cmd.Parameters.AddWithValue("name", name ?? "");
        return await cmd.ExecuteScalarAsync(http.RequestAborted) is string team
            ? new TeamOwner(team.Length == 0 ? null : team, $"No {kind} named '{name}'.")
            : null;
    }
}
