using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using Scheduler.Modules.Audit.Contracts;

namespace Scheduler.Modules.Access;

/// <summary>
/// Revokes a key; the row stays for the audit trail. Effective at once on this replica and
/// within <see cref="ApiKeyAuthenticationHandler.CacheFor"/> on the others.
/// </summary>
internal static class RevokeApiKey
{
    public sealed record Command(long Id) : ICommand<bool>;

    public sealed class Handler(AccessDbContext db, TimeProvider clock, IMemoryCache cache, AuditTrail audit) : ICommandHandler<Command, bool>
    {
        public async ValueTask<bool> Handle(Command command, CancellationToken cancellationToken)
        {
            var key = await db.ApiKeys.SingleOrDefaultAsync(k => k.Id == command.Id, cancellationToken);
            if (key is null)
                return false;
            key.RevokedAt ??= clock.GetUtcNow();
            await audit.SaveChangesAsync(db, "api_key.revoke", AuditTargets.ApiKey(key.Id), new() { ["name"] = key.Name }, cancellationToken);
            cache.Remove(ApiKeyAuthenticationHandler.CacheKey(key.KeyHash));
            return true;
        }
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder keys) => keys
        .MapDelete("/{id:long}", async Task<Results<NoContent, ProblemHttpResult>> (long id, ISender sender, CancellationToken ct) =>
            await sender.Send(new Command(id), ct) ? TypedResults.NoContent() : Problems.NotFound($"No API key with id {id}."))
        .WithName("RevokeApiKey")
        .WithSummary("Revoke an API key")
        .ProducesProblem(StatusCodes.Status404NotFound)
        .RequireAuthorization(Policies.Admin);
}
