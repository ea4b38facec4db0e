using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using Scheduler.Modules.Audit.Contracts;

namespace Scheduler.Modules.Access.Teams;

/// <summary>
/// Deletes a team that owns nothing. The foreign keys from DAGs, connections, variables,
/// channels and monitors decide (no count that a concurrent create could outdate): while one
/// references the team, 409 naming the kind. Roles in the team held by keys and users go with it.
/// </summary>
internal static class DeleteTeam
{
    public sealed record Command(string Name) : ICommand<Result>;

    /// <param name="OwnedKind">The table that still references the team (a 409), or null.</param>
    public sealed record Result(bool Found, string? OwnedKind);

    public sealed class Handler(AccessDbContext db, AuditTrail audit) : ICommandHandler<Command, Result>
    {
        public async ValueTask<Result> Handle(Command command, CancellationToken cancellationToken)
        {
            await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
            try
            {
                var deleted = await db.Teams.Where(t => t.Name == command.Name).ExecuteDeleteAsync(cancellationToken);
                if (deleted == 0)
                    return new Result(false, null);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ForeignKeyViolation)
            {
                return new Result(true, e.TableName ?? "objects");
            }
            await db.Database.ExecuteSqlAsync($"update access.api_keys set team_roles = team_roles - {command.Name} where team_roles ? {command.Name}", cancellationToken);
            await db.Database.ExecuteSqlAsync($"update access.users set team_roles = team_roles - {command.Name} where team_roles ? {command.Name}", cancellationToken);
            await audit.WriteAsync(db, "team.delete", AuditTargets.Team(command.Name), null, cancellationToken);
            await tx.CommitAsync(cancellationToken);
            return new Result(true, null);
        }
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder teams) => teams
        .MapDelete("/{name}", async Task<Results<NoContent, ProblemHttpResult>> (string name, ISender sender, CancellationToken ct) =>
        {
            var result = await sender.Send(new Command(name), ct);
            if (!result.Found)
                return Problems.NotFound($"No team named '{name}'.");
            if (result.OwnedKind is { } kind)
                return Problems.Conflict($"Team '{name}' still owns {kind}; move them to another team or delete them first.");
            return TypedResults.NoContent();
        })
        .WithName("DeleteTeam")
        .WithSummary("Delete a team (refused while it owns DAGs, connections, variables, channels or monitors)")
        .ProducesProblem(StatusCodes.Status404NotFound)
        .ProducesProblem(StatusCodes.Status409Conflict)
        .RequireAuthorization(Policies.Admin);
}
