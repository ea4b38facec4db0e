using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using Scheduler.Modules.Audit.Contracts;
using Scheduler.Modules.Dags.Definitions;

using Scheduler.Modules.Dags.Contracts;

namespace Scheduler.Modules.Dags;

/// <summary>
/// Pause stops new runs from being scheduled. Unpause resumes where the schedule stopped:
/// with catchup the missed runs are created (newest max_catchup_runs), without it only the
/// latest missed one, as on a scheduler restart.
/// </summary>
internal static class PauseDag
{
    public sealed record Command(string Name, bool Paused) : ICommand<DagDetails?>;

    public sealed class Handler(DagsDbContext db, Calendars.CalendarCache calendars, TimeProvider clock, AuditTrail audit) : ICommandHandler<Command, DagDetails?>
    {
        public async ValueTask<DagDetails?> Handle(Command command, CancellationToken cancellationToken)
        {
            var dag = await db.Dags.SingleOrDefaultAsync(d => d.Name == command.Name, cancellationToken);
            if (dag is null)
                return null;
            if (dag.Paused != command.Paused)
            {
                var now = clock.GetUtcNow();
                dag.Paused = command.Paused;
                dag.UpdatedAt = now;
                // next_run_at is left where the schedule stopped: the scan then creates what was
                // missed while paused, per the DAG's catchup setting (all of it, bounded by
                // max_catchup_runs, or only the latest).
                if (!command.Paused && dag.NextRunAt is null)
                {
                    var prepared = PreparedDefinition.From(CanonicalJson.Deserialize(dag.Definition));
                    dag.NextRunAt = prepared.NextRunAfter(now, await calendars.GetAsync(cancellationToken));
                }
                await audit.SaveChangesAsync(db, command.Paused ? "dag.pause" : "dag.unpause", AuditTargets.Dag(dag.Name), null, cancellationToken);
            }
            return dag.ToDetails();
        }
    }

    public static void Map(RouteGroupBuilder dags)
    {
        foreach (var (path, paused) in new[] { ("/{name}/pause", true), ("/{name}/unpause", false) })
            dags.MapPost(path, async Task<Results<Ok<DagDetails>, ProblemHttpResult>> (string name, ISender sender, CancellationToken ct) =>
                    await sender.Send(new Command(name, paused), ct) is { } dag ? TypedResults.Ok(dag) : Problems.NotFound($"No DAG named '{name}'."))
                .WithName(paused ? "PauseDag" : "UnpauseDag")
                .WithSummary(paused ? "Pause a DAG: no new runs are scheduled" : "Unpause a DAG: scheduling resumes from now")
                .ProducesProblem(StatusCodes.Status404NotFound)
                .RequireDagRole(Roles.Operator);
    }
}
