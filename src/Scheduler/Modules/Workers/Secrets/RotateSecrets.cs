using System.Text.Json.Nodes;
using Mediator;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Scheduler.Infrastructure.Security;
using Scheduler.Modules.Audit.Contracts;
using Scheduler.Modules.Notifications.Contracts;
using Scheduler.Modules.Workers.Connections;

namespace Scheduler.Modules.Workers.Secrets;

/// <summary>
/// Key rotation: a new Data Protection key (encrypted by the master key like every key since
/// it was configured), every stored secret (connections, channels) re-encrypted under it, then
/// the old keys revoked; those stored before the master key existed (in plaintext) are
/// deleted from the database. Sessions and open forms of the admin pages
/// were protected by the old keys: users sign in again. Other replicas read the new ring when
/// they meet data under a key they do not know, and at the latest on their ring's refresh.
/// </summary>
internal static class RotateSecrets
{
    public sealed record Command : ICommand<Result>;

    public sealed record Result(Guid KeyId, IReadOnlyList<Guid> RevokedKeys, int Connections, int Channels, int Variables);

    public sealed class Handler(IKeyManager keys, IDataProtectionProvider provider, ConnectionsDbContext db, ConnectionSecrets secrets, Variables.VariableStore variables, ISender sender, TimeProvider clock, AuditTrail audit)
        : ICommandHandler<Command, Result>
    {
        public async ValueTask<Result> Handle(Command command, CancellationToken cancellationToken)
        {
            var old = keys.GetAllKeys().Select(k => k.KeyId).ToList();
            var now = clock.GetUtcNow();
            // Active at once: the key resolver prefers the most recently activated key, and the
            // manager's change token makes this replica's ring include it on the next call.
            var key = keys.CreateNewKey(now, now.AddDays(90));
            await UntilProtectingWithAsync(provider, key.KeyId, cancellationToken);

            var channels = await sender.Send(new ReprotectChannelSecrets(), cancellationToken);
            await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
            var rows = await db.Connections.FromSql($"select * from workers.connections for update").ToListAsync(cancellationToken);
            foreach (var row in rows)
                row.Secret = secrets.Protect(secrets.Unprotect(row.Secret));
            var secretVariables = await db.Variables.FromSql($"select * from workers.variables where secret for update").ToListAsync(cancellationToken);
            foreach (var variable in secretVariables)
                variable.Value = variables.Protect(variables.Unprotect(variable.Value));
            await audit.SaveChangesAsync(db, "secrets.rotate", AuditTargets.Secrets, new JsonObject
            {
                ["key_id"] = key.KeyId.ToString("D"),
                ["revoked_keys"] = old.Count,
                ["connections"] = rows.Count,
                ["channels"] = channels,
                ["variables"] = secretVariables.Count,
            }, cancellationToken);
            await tx.CommitAsync(cancellationToken);
            variables.Invalidate();

            // Only once everything is stored under the new key: nothing is left under the old
            // ones (but sessions and antiforgery tokens), which are revoked. Those stored before
            // a master key was configured hold their key material in plaintext: deleted.
            foreach (var id in old)
                keys.RevokeKey(id, "rotated");
            var names = old.Select(id => "key-" + id.ToString("D")).ToArray();
            await db.DataProtectionKeys.Where(k => k.FriendlyName != null && names.Contains(k.FriendlyName) && k.Xml != null && k.Xml.Contains("<masterKey"))
                .ExecuteDeleteAsync(cancellationToken);
            return new Result(key.KeyId, old, rows.Count, channels, secretVariables.Count);
        }
    }

    /// <summary>
    /// Waits until this replica's ring protects with the new key: the ring is refreshed on its
    /// next use after a change, and a use during the refresh still gets the previous ring.
    /// Re-encrypting before then would store the secrets under a key about to be revoked.
    /// </summary>
    private static async Task UntilProtectingWithAsync(IDataProtectionProvider provider, Guid keyId, CancellationToken ct)
    {
        var probe = provider.CreateProtector("Scheduler.Secrets.Rotation");
        for (var waited = TimeSpan.Zero; SecretProtection.KeyId(probe.Protect("probe")) != keyId; waited += Poll)
        {
            if (waited > TimeSpan.FromSeconds(30))
                throw new InvalidOperationException($"The Data Protection key ring did not take the new key {keyId} within 30 s; nothing was re-encrypted or revoked.");
            await Task.Delay(Poll, ct);
        }
    }

    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(50);

    public static RouteHandlerBuilder Map(RouteGroupBuilder secrets) => secrets
        .MapPost("/rotate", async Task<Ok<Result>> (ISender sender, CancellationToken ct) => TypedResults.Ok(await sender.Send(new Command(), ct)))
        .WithName("RotateSecrets")
        .WithSummary("Rotate the Data Protection key: re-encrypt connections and channel secrets under a new key, revoke and delete the old keys");
}
