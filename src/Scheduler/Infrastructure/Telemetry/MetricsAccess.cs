using System.Text;
using Mediator;
using Microsoft.AspNetCore.Authentication;
using Scheduler.Infrastructure.Auth;
using Scheduler.Modules.Dags.Contracts;

namespace Scheduler.Infrastructure.Telemetry;

/// <summary>
/// Who may scrape <c>/metrics</c> and what each caller sees (docs/operations.md, Metrics):
/// <list type="bullet">
/// <item>No key, or a key that is not valid: everything, unless <c>Metrics:AllowAnonymous=false</c>
/// (then 401; 429 after too many wrong keys, as everywhere).</item>
/// <item>A key (<c>X-Api-Key</c>, or <c>Authorization: Bearer</c> as Prometheus sends it) with
/// a global role: everything.</item>
/// <item>A key with team roles only: the series of its teams' DAGs alone (those with a
/// <c>dag</c> label, so <c>Metrics:PerDagLabels=true</c>), nothing of the cluster or of other
/// teams. The same rule as every list (<see cref="TeamAccess.VisibleTeams"/>).</item>
/// </list>
/// </summary>
internal static class MetricsAccess
{
    public static bool AllowAnonymous(IConfiguration configuration) => configuration.GetValue("Metrics:AllowAnonymous", true);

    /// <summary>The check in front of the exporter, in the scrape endpoint's own pipeline.</summary>
    public static void UseMetricsAccess(this IApplicationBuilder branch, bool allowAnonymous) =>
        branch.Use(async (context, next) =>
        {
            var result = await context.AuthenticateAsync();
            if (!result.Succeeded && allowAnonymous)
            {
                // What anyone may read, a wrong key reads too (the contract: /metrics is anonymous).
                await next(context);
                return;
            }
            if (!result.Succeeded)
            {
                await context.ChallengeAsync();
                return;
            }
            var access = TeamAccess.Of(result.Principal);
            if (access.VisibleTeams() is not { } teams)
            {
                await next(context);
                return;
            }
            IReadOnlyList<string> names = teams.Count == 0 ? [] :
                await context.RequestServices.GetRequiredService<ISender>().Send(new ListTeamDagNames(teams), context.RequestAborted);
            await WriteFilteredAsync(context, next, names.ToHashSet(StringComparer.Ordinal));
        });

    private static async Task WriteFilteredAsync(HttpContext context, RequestDelegate next, HashSet<string> dags)
    {
        var body = context.Response.Body;
        using var buffer = new MemoryStream();
        context.Response.Body = buffer;
        try
        {
            await next(context);
        }
        finally
        {
            context.Response.Body = body;
        }
        if (context.Response.StatusCode != StatusCodes.Status200OK)
        {
            buffer.Position = 0;
            await buffer.CopyToAsync(body, context.RequestAborted);
            return;
        }
        var filtered = Encoding.UTF8.GetBytes(DagSeriesFilter.Keep(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length), dags));
        context.Response.ContentLength = filtered.Length;
        await body.WriteAsync(filtered, context.RequestAborted);
    }
}
