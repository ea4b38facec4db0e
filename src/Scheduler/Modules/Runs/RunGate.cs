using Mediator;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Scheduler.Infrastructure.Auth;
using Scheduler.Modules.Dags.Contracts;

namespace Scheduler.Modules.Runs;

/// <summary>
/// The team checks of endpoints that name a run (<c>runId</c>) or a backfill (<c>id</c>): they
/// belong to their DAG's team, so a caller who may not see the DAG gets 404 for them too.
/// </summary>
internal static class RunGate
{
    /// <param name="notFound">The handler's own 404 text for a missing run, so that a hidden one reads the same (default: "No run N.").</param>
    public static RouteHandlerBuilder RequireRunRole(this RouteHandlerBuilder builder, string needed, Func<HttpContext, long, string>? notFound = null) =>
        builder.RequireTeamRole(needed, async context =>
        {
            var http = context.HttpContext;
            if (!long.TryParse(http.GetRouteValue("runId") as string, System.Globalization.CultureInfo.InvariantCulture, out var runId))
                return null;
            var dag = await http.RequestServices.GetRequiredService<RunsDbContext>().Runs.AsNoTracking()
                .Where(r => r.Id == runId).Select(r => r.DagName).SingleOrDefaultAsync(http.RequestAborted);
            return dag is null ? null : await DagGate.OwnerAsync(http.RequestServices.GetRequiredService<ISender>(), dag, notFound?.Invoke(http, runId) ?? $"No run {runId}.", http.RequestAborted);
        });

    public static RouteHandlerBuilder RequireBackfillRole(this RouteHandlerBuilder builder, string needed) =>
        builder.RequireTeamRole(needed, async context =>
        {
            var http = context.HttpContext;
            if (!long.TryParse(http.GetRouteValue("id") as string, System.Globalization.CultureInfo.InvariantCulture, out var id))
                return null;
            await using var cmd = http.RequestServices.GetRequiredService<NpgsqlDataSource>().CreateCommand("select dag_name from runs.backfills where id = @id");
            cmd.Parameters.AddWithValue("id", id);
            return await cmd.ExecuteScalarAsync(http.RequestAborted) is string dag
                ? await DagGate.OwnerAsync(http.RequestServices.GetRequiredService<ISender>(), dag, $"No backfill {id}.", http.RequestAborted)
                : null;
        });
}
