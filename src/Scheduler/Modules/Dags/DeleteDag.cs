using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using Scheduler.Modules.Audit.Contracts;

using Scheduler.Modules.Dags.Contracts;

namespace Scheduler.Modules.Dags;

/// <summary>
/// Removes the DAG and its versions; its schedule stops with the row. Runs, owned by the
/// Runs module, keep their history and refer to the DAG by name. A DAG with active (queued
/// or running) runs is not deleted: those runs need their pinned version to finish.
/// </summary>
internal static class DeleteDag
{
    public sealed record Command(string Name) : ICommand<Result>;

    /// <param name="ActiveRuns">Runs still queued or running, which kept the DAG.</param>
    /// <param name="OwnedBy">The git repository whose file still defines the DAG (not deleted).</param>
    public sealed record Result(bool Found, int ActiveRuns, string? OwnedBy = null);

    public sealed class Handler(DagsDbContext db, AuditTrail audit) : ICommandHandler<Command, Result>
    {
        public async ValueTask<Result> Handle(Command command, CancellationToken cancellationToken)
        {
            await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
            var row = await db.Dags.Where(d => d.Name == command.Name)
                .Select(d => new { d.Id, Owner = d.SourcePath == null ? null : d.SourceRepository }).SingleOrDefaultAsync(cancellationToken);
            if (row is null)
                return new Result(false, 0);
            if (row.Owner is not null)
                return new Result(true, 0, row.Owner);
            long? id = row.Id;
            // The DAG's run-start lock (the Runs module's RunUnitOfWork.LockDagsAsync): run
            // creation holds it from its check of the pinned version to its commit, so once it
            // is held here no run of this DAG can appear before this transaction ends, and a
            // creation waiting on it finds the version gone. The count therefore reads the Runs
            // module's table in SQL in this transaction; a contract request would run on another
            // connection, outside the lock's ordering with this delete.
            await db.Database.ExecuteSqlAsync($"select pg_advisory_xact_lock(1, ({id.Value} % 2147483647)::int)", cancellationToken);
            var active = await db.Database
                .SqlQuery<int>($"select count(*)::int as \"Value\" from runs.dag_runs where dag_id = {id.Value} and state in ('queued', 'running')")
                .SingleAsync(cancellationToken);
            if (active > 0)
                return new Result(true, active);
            await db.Dags.Where(d => d.Id == id.Value).ExecuteDeleteAsync(cancellationToken);
            await audit.WriteAsync(db, "dag.delete", AuditTargets.Dag(command.Name), null, cancellationToken);
            await tx.CommitAsync(cancellationToken);
            return new Result(true, 0);
        }
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder dags) => dags
        .MapDelete("/{name}", async Task<Results<NoContent, ProblemHttpResult>> (string name, ISender sender, CancellationToken ct) =>
        {
            var result = await sender.Send(new Command(name), ct);
            if (!result.Found)
                return Problems.NotFound($"No DAG named '{name}'.");
            if (result.OwnedBy is { } owner)
                return Problems.Conflict(DagStore.OwnedMessage(name, owner) + " Remove its file to pause it.");
            if (result.ActiveRuns > 0)
                return Problems.Conflict($"DAG '{name}' has {result.ActiveRuns} active run(s) (queued or running), which need it to finish; cancel them (POST /api/v1/runs/{{id}}/cancel) or wait for them to end, then delete it.");
            return TypedResults.NoContent();
        })
        .WithName("DeleteDag")
        .WithSummary("Delete a DAG and stop its schedule (refused while it has active runs)")
        .ProducesProblem(StatusCodes.Status404NotFound)
        .ProducesProblem(StatusCodes.Status409Conflict)
        .RequireDagRole(Roles.Admin);
}
