using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Scheduler.Infrastructure.Auth;
using Scheduler.Modules.Audit.Contracts;

namespace Scheduler.Modules.Access;

/// <summary>Creates a key; the response is the only time the key itself is ever shown.</summary>
internal static class CreateApiKey
{
    /// <param name="Roles">Roles per team, besides (or instead of) the global <paramref name="Role"/>.</param>
    public sealed record Request(string? Name, string? Role, DateTimeOffset? ExpiresAt, Dictionary<string, string>? Roles = null);

    /// <summary><paramref name="ActorUserId"/>: the signed-in user creating the key in the admin pages, who then owns it (deleting them revokes it).</summary>
    public sealed record Command(string? Name, string? Role, DateTimeOffset? ExpiresAt, string? Actor, long? ActorUserId = null,
        IReadOnlyDictionary<string, string>? Roles = null) : ICommand<Created>;

    public sealed record Created(long Id, string Name, string? Role, string Key, string Prefix, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt,
        IReadOnlyDictionary<string, string> Roles);

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator(TimeProvider clock, ISender sender)
        {
            RuleFor(c => c.Name).NotEmpty().MaximumLength(200);
            RuleFor(c => c.Role).NotEmpty().WithMessage($"'role' must be one of {string.Join(", ", Roles.All)} (or give 'roles' per team).")
                .When(c => c.Roles is not { Count: > 0 });
            TeamRoleMaps.Check(this, c => c.Roles, sender);
            RuleFor(c => c.Role).Must(r => Roles.All.Contains(r!))
                .WithMessage($"'role' must be one of {string.Join(", ", Roles.All)}.").When(c => !string.IsNullOrEmpty(c.Role));
            RuleFor(c => c.ExpiresAt).Must(e => e > clock.GetUtcNow()).WithMessage("'expires_at' must be in the future.")
                .When(c => c.ExpiresAt is not null);
        }
    }

    public sealed class Handler(AccessDbContext db, TimeProvider clock, AuditTrail audit) : ICommandHandler<Command, Created>
    {
        public async ValueTask<Created> Handle(Command command, CancellationToken cancellationToken)
        {
            var secret = ApiKeySecrets.Generate();
            var key = new ApiKey
            {
                Name = command.Name!,
                Role = string.IsNullOrEmpty(command.Role) ? null : command.Role,
                TeamRoles = TeamRoleMaps.Serialize(command.Roles),
                KeyHash = ApiKeySecrets.Hash(secret),
                Prefix = ApiKeySecrets.DisplayPrefix(secret),
                CreatedAt = clock.GetUtcNow(),
                CreatedBy = command.Actor,
                CreatedByUserId = command.ActorUserId,
                ExpiresAt = command.ExpiresAt?.ToUniversalTime(),
            };
            db.ApiKeys.Add(key);
            await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
            await audit.WriteAsync(db, "api_key.create", AuditTargets.ApiKey(key.Id), new() { ["name"] = key.Name, ["role"] = key.Role, ["roles"] = System.Text.Json.Nodes.JsonNode.Parse(key.TeamRoles), ["prefix"] = key.Prefix }, cancellationToken);
            await tx.CommitAsync(cancellationToken);
            return new Created(key.Id, key.Name, key.Role, secret, key.Prefix, key.CreatedAt, key.ExpiresAt, TeamRoleMaps.Parse(key.TeamRoles));
        }
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder keys) => keys
        .MapPost("/", async Task<Created<Created>> (Request request, ISender sender, HttpContext http, CancellationToken ct) =>
        {
            var created = await sender.Send(new Command(request.Name, request.Role, request.ExpiresAt, http.User.Identity?.Name, Roles: request.Roles), ct);
            return TypedResults.Created($"/api/v1/api-keys/{created.Id}", created);
        })
        .WithName("CreateApiKey")
        .WithSummary("Create an API key (the key is shown once, in this response)")
        .RequireAuthorization(Policies.Admin);
}
