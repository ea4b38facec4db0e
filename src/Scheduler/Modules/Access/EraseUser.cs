using System.Security.Cryptography;
using System.Text;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Caching.Memory;
using Npgsql;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using Scheduler.Modules.Audit.Contracts;
using Scheduler.Modules.Dags.Contracts;
using Scheduler.Modules.Runs.Contracts;
using static Scheduler.Modules.Access.UserResponses;

namespace Scheduler.Modules.Access;

/// <summary>
/// Erasure (GDPR art. 17): the person's name is replaced by a pseudonym wherever the server
/// stored it as who did something (the audit trail, users' and keys' <c>created_by</c>, DAG
/// versions, runs) and the account is deleted as by DeleteUser, in one transaction. The trail
/// keeps a <c>user.erase</c> entry under the pseudonym. The pseudonym is a hash of the account
/// id and random bytes: the same for all of the person's entries, and not derivable from the name.
/// </summary>
internal static class EraseUser
{
    public sealed record Command(string Name) : ICommand<(Change Change, Erased? Result)>;

    public sealed record Erased(string Pseudonym, int AuditEntries, int DagVersions, int Runs, int RevokedKeys);

    public sealed class Handler(AccessDbContext db, TimeProvider clock, IMemoryCache cache, AuditTrail audit) : ICommandHandler<Command, (Change Change, Erased? Result)>
    {
        public async ValueTask<(Change Change, Erased? Result)> Handle(Command command, CancellationToken cancellationToken)
        {
            await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
            var id = await db.Users.Where(u => u.Username == command.Name).Select(u => (long?)u.Id).SingleOrDefaultAsync(cancellationToken);
            if (id is null)
                return (Change.NotFound, null);
            if (await IsLastAdminAsync(db, id.Value, cancellationToken))
                return (Change.LastAdmin, null);
            var user = await db.Users.SingleAsync(u => u.Id == id.Value, cancellationToken);
            var pseudonym = "erased-" + Convert.ToHexStringLower(SHA256.HashData(
                [.. Encoding.UTF8.GetBytes(user.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)), .. RandomNumberGenerator.GetBytes(16)]))[..16];
            var keys = await DeleteUser.RemoveAsync(db, user, clock.GetUtcNow(), cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
            await db.Users.Where(u => u.CreatedBy == command.Name).ExecuteUpdateAsync(u => u.SetProperty(x => x.CreatedBy, pseudonym), cancellationToken);
            await db.ApiKeys.Where(k => k.CreatedBy == command.Name).ExecuteUpdateAsync(k => k.SetProperty(x => x.CreatedBy, pseudonym), cancellationToken);

            var connection = (NpgsqlConnection)db.Database.GetDbConnection();
            var transaction = (NpgsqlTransaction)tx.GetDbTransaction();
            var entries = await AuditErasure.PseudonymiseAsync(connection, transaction, command.Name, pseudonym, cancellationToken);
            var versions = await DagsErasure.PseudonymiseAsync(connection, transaction, command.Name, pseudonym, cancellationToken);
            var runs = await RunsErasure.PseudonymiseAsync(connection, transaction, command.Name, pseudonym, cancellationToken);
            var erased = new Erased(pseudonym, entries, versions, runs, keys.Count);
            await audit.WriteAsync(db, "user.erase", AuditTargets.User(pseudonym), new()
            {
                ["pseudonym"] = pseudonym, ["audit_entries"] = entries, ["dag_versions"] = versions, ["runs"] = runs, ["revoked_keys"] = keys.Count,
            }, cancellationToken);
            await tx.CommitAsync(cancellationToken);
            DeleteUser.Forget(cache, user, keys);
            return (Change.Done, erased);
        }
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder users) => users
        .MapPost("/{name}/erase", async Task<Results<Ok<Erased>, ProblemHttpResult>> (string name, ISender sender, CancellationToken ct) =>
        {
            var (change, erased) = await sender.Send(new Command(name), ct);
            return change switch
            {
                Change.NotFound => Problems.NotFound($"No user named '{name}'."),
                Change.LastAdmin => Problems.Conflict($"'{name}' is the last admin; make another user admin first."),
                _ => TypedResults.Ok(erased!),
            };
        })
        .WithName("EraseUser")
        .WithSummary("Erase a person: pseudonymise their name everywhere (audit trail, created_by fields) and delete the account")
        .ProducesProblem(StatusCodes.Status404NotFound)
        .ProducesProblem(StatusCodes.Status409Conflict)
        .RequireAuthorization(Policies.Admin);
}
