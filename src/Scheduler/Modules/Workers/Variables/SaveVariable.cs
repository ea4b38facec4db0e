using System.Text.Json.Nodes;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.OpenApi;
using Scheduler.Modules.Access.Contracts;
using Scheduler.Infrastructure.Validation;
using Scheduler.Modules.Audit.Contracts;
using Scheduler.Modules.Workers.Connections;
using static Scheduler.Modules.Workers.Variables.VariableResponses;

namespace Scheduler.Modules.Workers.Variables;

/// <summary>Creates or replaces a variable (PUT); a secret's value is encrypted at rest and never shown again.</summary>
internal static class SaveVariable
{
    public const int MaxValueChars = 65_536;

    [SchemaName("Workers.Variables.SaveVariable.Request")]
    public sealed record Request(JsonNode? Value, bool? Secret, string? Description, string? Team = null);

    public sealed record Command(string Name, JsonNode? Value, bool? Secret, string? Description, string? Team = null) : ICommand<Result>;

    public sealed record Result(Info Variable, bool Created);

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator(ISender sender)
        {
            RuleFor(c => c.Name).NotEmpty().Matches(Names.Pattern()).WithMessage($"'name' must match {Names.PatternText}.");
            RuleFor(c => c.Team).KnownTeam(sender);
            RuleFor(c => c.Value).NotNull().WithMessage("'value' is required (any JSON value but null).");
            RuleFor(c => c.Value).Must(v => v!.ToJsonString().Length <= MaxValueChars)
                .WithMessage($"'value' must be at most {MaxValueChars} characters of JSON.").When(c => c.Value is not null);
            RuleFor(c => c.Description).MaximumLength(1000);
        }
    }

    public sealed class Handler(ConnectionsDbContext db, VariableStore store, TimeProvider clock, AuditTrail audit) : ICommandHandler<Command, Result>
    {
        public async ValueTask<Result> Handle(Command command, CancellationToken cancellationToken)
        {
            // PostgreSQL keeps microseconds: the response shows what a later read will show.
            var utc = clock.GetUtcNow().UtcTicks;
            var now = new DateTimeOffset(utc - utc % TimeSpan.TicksPerMicrosecond, TimeSpan.Zero);
            var row = await db.Variables.SingleOrDefaultAsync(v => v.Name == command.Name, cancellationToken);
            var created = row is null;
            if (row is null)
                db.Variables.Add(row = new StoredVariable { Name = command.Name, Value = "", CreatedAt = now });
            var json = command.Value!.ToJsonString();
            row.Secret = command.Secret ?? false;
            row.Value = row.Secret ? store.Protect(json) : json;
            row.Description = command.Description;
            row.Team = command.Team;
            row.UpdatedAt = now;
            try
            {
                // Never the value, not even a fingerprint of a secret one: that it changed, and whether it is secret.
                await audit.SaveChangesAsync(db, created ? "variable.create" : "variable.update", AuditTargets.Variable(command.Name),
                    new() { ["secret"] = row.Secret, ["described"] = row.Description is not null, ["team"] = row.Team }, cancellationToken);
            }
            catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
            {
                // Two PUTs creating one name: the later one replaces the earlier.
                db.ChangeTracker.Clear();
                return await Handle(command, cancellationToken);
            }
            store.Invalidate();
            return new Result(ToInfo(row), created);
        }
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder variables) => variables
        .MapPut("/{name}", async Task<Results<Created<Info>, Ok<Info>, ProblemHttpResult>> (string name, Request r, ISender sender, HttpContext http, CancellationToken ct) =>
        {
            if (TeamGate.CreateRefusal(http, r.Team) is { } refused)
                return refused;
            var result = await sender.Send(new Command(name, r.Value, r.Secret, r.Description, r.Team), ct);
            return result.Created ? TypedResults.Created($"/api/v1/variables/{name}", result.Variable) : TypedResults.Ok(result.Variable);
        })
        .WithName("UpsertVariable").WithSummary("Create or replace a variable (a secret's value is encrypted and never shown again)")
        .ProducesProblem(StatusCodes.Status403Forbidden)
        .RequireVariableRole(Roles.Admin);
}
