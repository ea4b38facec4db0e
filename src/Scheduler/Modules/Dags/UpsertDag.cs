using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Scheduler.Infrastructure.Auth;
using Scheduler.Modules.Audit.Contracts;
using Scheduler.Infrastructure.Http;
using Scheduler.Modules.Dags.Contracts;
using Scheduler.Modules.Dags.Definitions;

namespace Scheduler.Modules.Dags;

/// <summary>
/// PUT for deploy scripts: creates the DAG or replaces its definition. An identical
/// definition (same canonical hash) changes nothing and creates no version, so a deploy
/// that runs every few minutes leaves the history clean.
/// </summary>
internal static class UpsertDag
{
    /// <param name="Source">Set by the git import only; a REST write of a git-owned DAG is refused.</param>
    public sealed record Command(string Name, DagDefinition? Definition, string? Actor, DagSource? Source = null) : ICommand<Result>;

    /// <param name="OwnedBy">The repository that owns the DAG when a REST write was refused (nothing changed).</param>
    public sealed record Result(DagDetails Dag, bool Created, bool Changed, string? OwnedBy = null);

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator(DagDefinitionValidator definition, ISender sender)
        {
            DagDefinitionValidator.Include(this, definition, c => c.Definition, sender);
            RuleFor(c => c.Definition!.Name).Equal(c => c.Name)
                .WithMessage(c => $"'name' in the body ('{c.Definition!.Name}') differs from the name in the URL ('{c.Name}').")
                .OverridePropertyName("name")
                .When(c => c.Definition?.Name is not null);
        }
    }

    public sealed class Handler(DagsDbContext db, Calendars.CalendarCache calendarCache, TimeProvider clock, AuditTrail audit) : ICommandHandler<Command, Result>
    {
        public async ValueTask<Result> Handle(Command command, CancellationToken cancellationToken)
        {
            var prepared = PreparedDefinition.From(command.Definition!);
            var now = clock.GetUtcNow();
            var calendars = await calendarCache.GetAsync(cancellationToken);

            // Serialised per DAG by the row lock, so two deploys racing get versions n+1 and
            // n+2 rather than a duplicate key; a create racing a create is settled by the
            // unique name, and the loser replaces the winner's definition on its second pass.
            for (var attempt = 0; ; attempt++)
            {
                await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
                var dag = await db.Dags.FromSql($"select * from dags.dags where name = {command.Name} for update").SingleOrDefaultAsync(cancellationToken);
                if (dag is null)
                {
                    await tx.RollbackAsync(cancellationToken);
                    var created = await DagStore.TryInsertAsync(db, audit, prepared, command.Actor, now, calendars, cancellationToken, command.Source);
                    if (created is not null)
                        return new Result(created.ToDetails(), Created: true, Changed: true);
                    if (attempt > 0)
                        throw new InvalidOperationException($"DAG '{command.Name}' could neither be created nor found.");
                    continue;
                }
                if (dag.SourceRepository is { } owner && command.Source is null)
                    return new Result(dag.ToDetails(), Created: false, Changed: false, OwnedBy: owner);
                var moved = DagStore.SetSource(dag, command.Source, command.Definition!.Paused);
                if (dag.Hash == prepared.Hash)
                {
                    if (moved)
                        await db.SaveChangesAsync(cancellationToken);
                    await tx.CommitAsync(cancellationToken);
                    return new Result(dag.ToDetails(), Created: false, Changed: false);
                }

                var before = dag.Hash;
                dag.Version++;
                dag.Apply(prepared, now, calendars);
                db.Versions.Add(DagStore.NewVersion(dag, now, command.Actor, command.Source));
                var details = DagStore.AuditDetails(dag.Version, dag.Hash, command.Source);
                details.Remove("hash");
                details["before_hash"] = before;
                details["after_hash"] = dag.Hash;
                await audit.SaveChangesAsync(db, "dag.update", AuditTargets.Dag(dag.Name), details, cancellationToken);
                await tx.CommitAsync(cancellationToken);
                return new Result(dag.ToDetails(), Created: false, Changed: true);
            }
        }
    }
    public static RouteHandlerBuilder Map(RouteGroupBuilder dags) => dags
        .MapPut("/{name}", async Task<Results<Created<DagDetails>, Ok<DagDetails>, ProblemHttpResult>> (string name, DagDefinition definition, ISender sender, HttpContext http, CancellationToken ct) =>
        {
            definition.Name ??= name;
            if (TeamGate.CreateRefusal(http, definition.Team) is { } refused)
                return refused;
            var result = await sender.Send(new Command(name, definition, http.User.Identity?.Name), ct);
            if (result.OwnedBy is { } owner)
                return Problems.Conflict(DagStore.OwnedMessage(name, owner));
            return result.Created
                ? TypedResults.Created($"/api/v1/dags/{result.Dag.Name}", result.Dag)
                : TypedResults.Ok(result.Dag);
        })
        .WithName("UpsertDag")
        .WithSummary("Create or replace a DAG")
        .WithDescription("201 when created, 200 when replaced or unchanged. A changed definition becomes a new version; an identical one creates none.")
        .ProducesProblem(StatusCodes.Status409Conflict)
        .ProducesProblem(StatusCodes.Status403Forbidden)
        .RequireDagRole(Roles.Admin);
}
