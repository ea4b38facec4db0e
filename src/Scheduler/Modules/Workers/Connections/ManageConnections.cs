using System.Globalization;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using Scheduler.Infrastructure.Validation;

namespace Scheduler.Modules.Workers.Connections;

/// <summary>
/// Stored connections for sql tasks (and plugins): admin-only; the connection string is
/// write-only: encrypted at rest, never in a response, never in a log.
/// </summary>
internal static class ManageConnections
{
    public static readonly string[] Kinds = ["postgres"];

    public sealed record Request(string? Name, string? Kind, string? Description, string? ConnectionString);

    /// <summary>What the API shows: where it points, never the secret.</summary>
    public sealed record Info(string Name, string Kind, string? Description, string? Host, string? Database, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

    public sealed record Save(string? Name, string? Kind, string? Description, string? ConnectionString, bool Replace) : ICommand<SaveResult>;

    public sealed record SaveResult(Info? Connection, bool Created);

    public sealed record List(int? Limit, string? Cursor) : IQuery<Page<Info>>;

    public sealed record Get(string Name) : IQuery<Info?>;

    public sealed record Delete(string Name) : ICommand<bool>;

    public sealed class SaveValidator : AbstractValidator<Save>
    {
        public SaveValidator()
        {
            RuleFor(s => s.Name).NotEmpty().Matches(Names.Pattern()).WithMessage($"'name' must match {Names.PatternText}.");
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

    public sealed class ListValidator : AbstractValidator<List>
    {
        public ListValidator()
        {
            RuleFor(q => q.Limit).ValidLimit();
            RuleFor(q => q.Cursor).ValidCursor();
        }
    }

    internal static Info ToInfo(StoredConnection c, ConnectionSecrets secrets)
    {
        string? host = null, database = null;
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(secrets.Unprotect(c.Secret));
            (host, database) = (builder.Host, builder.Database);
        }
        catch (Exception e) when (e is ArgumentException or System.Security.Cryptography.CryptographicException)
        {
            // Shown without the details rather than failing the listing.
        }
        return new Info(c.Name, c.Kind, c.Description, host, database, c.CreatedAt, c.UpdatedAt);
    }

    public sealed class Handler(ConnectionsDbContext db, ConnectionSecrets secrets, TimeProvider clock) :
        ICommandHandler<Save, SaveResult>, IQueryHandler<List, Page<Info>>, IQueryHandler<Get, Info?>, ICommandHandler<Delete, bool>
    {
        public async ValueTask<SaveResult> Handle(Save command, CancellationToken cancellationToken)
        {
            // PostgreSQL keeps microseconds: the response shows what a later read will show.
            var utc = clock.GetUtcNow().UtcTicks;
            var now = new DateTimeOffset(utc - utc % TimeSpan.TicksPerMicrosecond, TimeSpan.Zero);
            var row = await db.Connections.SingleOrDefaultAsync(c => c.Name == command.Name, cancellationToken);
            if (row is not null && !command.Replace)
                return new SaveResult(null, false);
            var created = row is null;
            if (row is null)
                db.Connections.Add(row = new StoredConnection { Name = command.Name!, Kind = command.Kind!, Secret = "", CreatedAt = now });
            row.Kind = command.Kind!;
            row.Description = command.Description;
            row.Secret = secrets.Protect(command.ConnectionString!);
            row.UpdatedAt = now;
            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
            {
                return new SaveResult(null, false);
            }
            return new SaveResult(ToInfo(row, secrets), created);
        }

        public async ValueTask<Page<Info>> Handle(List query, CancellationToken cancellationToken)
        {
            var limit = query.Limit ?? Cursor.DefaultLimit;
            Cursor.TryDecode(query.Cursor, out var after);
            var rows = db.Connections.AsNoTracking();
            if (after is not null)
                rows = rows.Where(c => string.Compare(c.Name, after) > 0);
            var page = await rows.OrderBy(c => c.Name).Take(limit + 1).ToListAsync(cancellationToken);
            return Cursor.ToPage(page.Select(c => ToInfo(c, secrets)).ToList(), limit, c => c.Name);
        }

        public async ValueTask<Info?> Handle(Get query, CancellationToken cancellationToken) =>
            await db.Connections.AsNoTracking().SingleOrDefaultAsync(c => c.Name == query.Name, cancellationToken) is { } row ? ToInfo(row, secrets) : null;

        public async ValueTask<bool> Handle(Delete command, CancellationToken cancellationToken) =>
            await db.Connections.Where(c => c.Name == command.Name).ExecuteDeleteAsync(cancellationToken) > 0;
    }

    public static void Map(RouteGroupBuilder api)
    {
        var connections = api.MapGroup("/connections").WithTags("Connections").RequireAuthorization(Policies.Admin);
        connections.MapPost("/", async Task<Results<Created<Info>, ProblemHttpResult>> (Request r, ISender sender, CancellationToken ct) =>
            {
                var result = await sender.Send(new Save(r.Name, r.Kind, r.Description, r.ConnectionString, Replace: false), ct);
                return result.Connection is null
                    ? Problems.Conflict($"A connection named '{r.Name}' already exists; use PUT to replace it.")
                    : TypedResults.Created($"/api/v1/connections/{result.Connection.Name}", result.Connection);
            })
            .WithName("CreateConnection").WithSummary("Store a connection (the connection string is encrypted and never shown again)")
            .ProducesProblem(StatusCodes.Status409Conflict);
        connections.MapPut("/{name}", async Task<Results<Created<Info>, Ok<Info>>> (string name, Request r, ISender sender, CancellationToken ct) =>
            {
                var result = await sender.Send(new Save(name, r.Kind, r.Description, r.ConnectionString, Replace: true), ct);
                return result.Created ? TypedResults.Created($"/api/v1/connections/{name}", result.Connection!) : TypedResults.Ok(result.Connection!);
            })
            .WithName("UpsertConnection").WithSummary("Create or replace a connection");
        connections.MapGet("/", async Task<Ok<Page<Info>>> (ISender sender, CancellationToken ct, int? limit, string? cursor) =>
                TypedResults.Ok(await sender.Send(new List(limit, cursor), ct)))
            .WithName("ListConnections").WithSummary("List connections (never their secrets)");
        connections.MapGet("/{name}", async Task<Results<Ok<Info>, ProblemHttpResult>> (string name, ISender sender, CancellationToken ct) =>
                await sender.Send(new Get(name), ct) is { } info ? TypedResults.Ok(info) : Problems.NotFound($"No connection named '{name}'."))
            .WithName("GetConnection").WithSummary("One connection (never its secret)")
            .ProducesProblem(StatusCodes.Status404NotFound);
        connections.MapDelete("/{name}", async Task<Results<NoContent, ProblemHttpResult>> (string name, ISender sender, CancellationToken ct) =>
                await sender.Send(new Delete(name), ct) ? TypedResults.NoContent() : Problems.NotFound($"No connection named '{name}'."))
            .WithName("DeleteConnection").WithSummary("Delete a connection")
            .ProducesProblem(StatusCodes.Status404NotFound);
    }
}
