using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using Scheduler.Modules.Access.Contracts;
using Scheduler.Infrastructure.OpenApi;
using Scheduler.Infrastructure.Validation;
using Scheduler.Modules.Audit.Contracts;
using static Scheduler.Modules.Workers.Connections.ConnectionResponses;

namespace Scheduler.Modules.Workers.Connections;

/// <summary>Stores a connection (POST, a 409 when the name is taken) or creates or replaces one (PUT).</summary>
internal static class SaveConnection
{
    private static readonly string[] Kinds = ["postgres"];

    [SchemaName("Workers.Connections.ManageConnections.Request")]
    public sealed record Request(string? Name, string? Kind, string? Description, string? ConnectionString, string? Team = null);

    public sealed record Command(string? Name, string? Kind, string? Description, string? ConnectionString, bool Replace, string? Team = null) : ICommand<Result>;

    /// <summary>The connection is null when the name is taken and <see cref="Command.Replace"/> is false.</summary>
    public sealed record Result(Info? Connection, bool Created);

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator(ISender sender)
        {
            RuleFor(s => s.Name).NotEmpty().Matches(Names.Pattern()).WithMessage($"'name' must match {Names.PatternText}.");
            RuleFor(s => s.Team).KnownTeam(sender);
            RuleFor(s => s.Kind).NotEmpty().Must(k => k is null || Kinds.Contains(k)).WithMessage($"'kind' must be one of {string.Join(", ", Kinds)}.");
            RuleFor(s => s.Description).MaximumLength(1000);
            RuleFor(s => s.ConnectionString).NotEmpty().MaximumLength(4000);
            RuleFor(s => s.ConnectionString).Must(Parses).WithMessage("'connection_string' is not a valid PostgreSQL connection string (Host=...;Database=...;Username=...;Password=...).")
                .When(s => !string.IsNullOrEmpty(s.ConnectionString) && s.Kind == "postgres");
        }

        private static bool Parses(string? text)
        {
            try
            {
                var builder = new NpgsqlConnectionStringBuilder(text);
                return !string.IsNullOrEmpty(builder.Host);
            }
            catch (ArgumentException)
            {
                return false;
            }
        }
    }

    public sealed class Handler(ConnectionsDbContext db, ConnectionSecrets secrets, TimeProvider clock, AuditTrail audit) : ICommandHandler<Command, Result>
    {
        public async ValueTask<Result> Handle(Command command, CancellationToken cancellationToken)
        {
            // PostgreSQL keeps microseconds: the response shows what a later read will show.
            var utc = clock.GetUtcNow().UtcTicks;
            var now = new DateTimeOffset(utc - utc % TimeSpan.TicksPerMicrosecond, TimeSpan.Zero);
            var row = await db.Connections.SingleOrDefaultAsync(c => c.Name == command.Name, cancellationToken);
            if (row is not null && !command.Replace)
                return new Result(null, false);
            var created = row is null;
            // What changed, by field name: the connection string itself never reaches the trail.
            var changed = new List<string>();
            if (row is null || row.Kind != command.Kind)
                changed.Add("kind");
            if (row is null || row.Description != command.Description)
                changed.Add("description");
            if (row is null || secrets.Unprotect(row.Secret) != command.ConnectionString)
                changed.Add("connection_string");
            if (row?.Team != command.Team)
                changed.Add("team");
            if (row is null)
                db.Connections.Add(row = new StoredConnection { Name = command.Name!, Kind = command.Kind!, Secret = "", CreatedAt = now });
            row.Kind = command.Kind!;
            row.Description = command.Description;
            row.Team = command.Team;
            row.Secret = secrets.Protect(command.ConnectionString!);
            row.UpdatedAt = now;
            try
            {
                await audit.SaveChangesAsync(db, created ? "connection.create" : "connection.update", AuditTargets.Connection(row.Name), AuditTrail.Changed(changed), cancellationToken);
            }
            catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
            {
                return new Result(null, false);
            }
            return new Result(ToInfo(row, secrets), created);
        }
    }

    /// <summary>Maps POST /connections (CreateConnection) and PUT /connections/{name} (UpsertConnection): one command, told apart by <see cref="Command.Replace"/>.</summary>
    public static void Map(RouteGroupBuilder connections)
    {
        connections.MapPost("/", async Task<Results<Created<Info>, ProblemHttpResult>> (Request r, ISender sender, HttpContext http, CancellationToken ct) =>
            {
                if (TeamGate.CreateRefusal(http, r.Team) is { } refused)
                    return refused;
                var result = await sender.Send(new Command(r.Name, r.Kind, r.Description, r.ConnectionString, Replace: false, r.Team), ct);
                return result.Connection is null
                    ? Problems.Conflict($"A connection named '{r.Name}' already exists; use PUT to replace it.")
                    : TypedResults.Created($"/api/v1/connections/{result.Connection.Name}", result.Connection);
            })
            .WithName("CreateConnection").WithSummary("Store a connection (the connection string is encrypted and never shown again)")
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .RequireAuthorization(Policies.TeamAdmin);
        connections.MapPut("/{name}", async Task<Results<Created<Info>, Ok<Info>, ProblemHttpResult>> (string name, Request r, ISender sender, HttpContext http, CancellationToken ct) =>
            {
                if (TeamGate.CreateRefusal(http, r.Team) is { } refused)
                    return refused;
                var result = await sender.Send(new Command(name, r.Kind, r.Description, r.ConnectionString, Replace: true, r.Team), ct);
                return result.Created ? TypedResults.Created($"/api/v1/connections/{name}", result.Connection!) : TypedResults.Ok(result.Connection!);
            })
            .WithName("UpsertConnection").WithSummary("Create or replace a connection")
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .RequireConnectionRole(Roles.Admin);
    }
}
