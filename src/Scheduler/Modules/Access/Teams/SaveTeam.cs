using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Validation;
using Scheduler.Modules.Audit.Contracts;

namespace Scheduler.Modules.Access.Teams;

/// <summary>Creates or updates a team (PUT, admin): its description. <c>team.create</c> or <c>team.update</c> in the same transaction.</summary>
internal static class SaveTeam
{
    public sealed record Request(string? Description);

    public sealed record Command(string Name, string? Description) : ICommand<(TeamInfo Team, bool Created)>;

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator()
        {
            RuleFor(c => c.Name).Matches(Names.Pattern()).WithMessage($"a team name must match {Names.PatternText}.").OverridePropertyName("name");
            RuleFor(c => c.Description).MaximumLength(1000).WithMessage("at most 1000 characters.").OverridePropertyName("description");
        }
    }

    public sealed class Handler(AccessDbContext db, TimeProvider clock, AuditTrail audit) : ICommandHandler<Command, (TeamInfo Team, bool Created)>
    {
        public async ValueTask<(TeamInfo Team, bool Created)> Handle(Command command, CancellationToken cancellationToken)
        {
            var now = clock.GetUtcNow();
            await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
            var team = await db.Teams.FromSql($"select * from access.teams where name = {command.Name} for update").SingleOrDefaultAsync(cancellationToken);
            var created = team is null;
            if (team is null)
                db.Teams.Add(team = new Team { Name = command.Name, CreatedAt = now, CreatedBy = audit.Actor.Name, UpdatedAt = now });
            else if (team.Description == command.Description)
                return (TeamResponses.ToInfo(team), false);
            team.Description = command.Description;
            team.UpdatedAt = now;
            try
            {
                await audit.SaveChangesAsync(db, created ? "team.create" : "team.update", AuditTargets.Team(command.Name), new() { ["description"] = command.Description }, cancellationToken);
            }
            catch (DbUpdateException e) when (created && e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
            {
                // A concurrent PUT created it first: update that one instead.
                await tx.RollbackAsync(cancellationToken);
                db.ChangeTracker.Clear();
                return await Handle(command, cancellationToken);
            }
            await tx.CommitAsync(cancellationToken);
            return (TeamResponses.ToInfo(team), created);
        }
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder teams) => teams
        .MapPut("/{name}", async Task<Results<Created<TeamInfo>, Ok<TeamInfo>>> (string name, Request request, ISender sender, CancellationToken ct) =>
        {
            var (team, created) = await sender.Send(new Command(name, request.Description), ct);
            return created ? TypedResults.Created($"/api/v1/teams/{name}", team) : TypedResults.Ok(team);
        })
        .WithName("UpsertTeam")
        .WithSummary("Create or update a team")
        .RequireAuthorization(Policies.Admin);
}
