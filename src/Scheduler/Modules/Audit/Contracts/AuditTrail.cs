using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using NpgsqlTypes;

namespace Scheduler.Modules.Audit.Contracts;

/// <summary>Who did it: an API key or a user (by id and name), or the server itself.</summary>
public sealed record AuditActor(string Kind, long? Id, string Name)
{
    public const string ApiKey = "api_key";
    public const string User = "user";
    public const string SystemKind = "system";

    public static readonly AuditActor System = new(SystemKind, null, "system");
}

/// <summary>One entry of the trail. <paramref name="Details"/> says what changed (field names, hashes); never a secret value.</summary>
public sealed record AuditEntry(DateTimeOffset At, AuditActor Actor, string Action, string Target, string? Ip, JsonObject Details);

/// <summary>
/// The one writer of the audit trail. Every write path calls it inside the transaction of its
/// change, so an entry exists exactly when the change committed: a change that rolls back
/// takes its entry with it. The actor and client address come from the current request (an
/// API key, or the user signed in to the admin pages); outside a request the actor is the
/// system. Scoped: inject it into a handler and call <see cref="SaveChangesAsync"/> (an EF
/// Core change) or <see cref="WriteAsync(NpgsqlConnection, NpgsqlTransaction?, string, string, JsonObject?, CancellationToken, AuditActor?)"/>
/// (raw Npgsql), or <see cref="Entry"/> to carry an entry to a transaction opened elsewhere.
/// </summary>
public sealed class AuditTrail(IHttpContextAccessor http, TimeProvider clock)
{
    public const string ApiKeyIdClaim = "api_key_id";
    public const string UserIdClaim = "user_id";

    /// <summary>The caller of the current request, or <see cref="AuditActor.System"/>.</summary>
    public AuditActor Actor => ActorOf(http.HttpContext?.User);

    public static AuditActor ActorOf(ClaimsPrincipal? principal)
    {
        if (principal?.Identity is not { IsAuthenticated: true } identity)
            return AuditActor.System;
        var name = identity.Name ?? "";
        if (Id(principal, UserIdClaim) is { } user)
            return new AuditActor(AuditActor.User, user, name);
        if (Id(principal, ApiKeyIdClaim) is { } key)
            return new AuditActor(AuditActor.ApiKey, key, name);
        return AuditActor.System;
    }

    private static long? Id(ClaimsPrincipal principal, string claim) =>
        long.TryParse(principal.FindFirstValue(claim), NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : null;

    /// <summary>An entry by the current actor (or <paramref name="actor"/>), to be written by <see cref="AuditLog.WriteAsync"/> in the change's transaction.</summary>
    public AuditEntry Entry(string action, string target, JsonObject? details = null, AuditActor? actor = null) =>
        new(clock.GetUtcNow(), actor ?? Actor, action, target, http.HttpContext?.Connection.RemoteIpAddress?.ToString(), details ?? []);

    /// <summary>Writes the entry in <paramref name="tx"/>, the change's transaction.</summary>
    public Task WriteAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, string action, string target, JsonObject? details, CancellationToken ct, AuditActor? actor = null) =>
        AuditLog.WriteAsync(connection, tx, [Entry(action, target, details, actor)], ct);

    /// <summary>Writes the entry in the context's current transaction; there must be one (the change's).</summary>
    public Task WriteAsync(DbContext db, string action, string target, JsonObject? details, CancellationToken ct, AuditActor? actor = null)
    {
        var tx = db.Database.CurrentTransaction ?? throw new InvalidOperationException("An audit entry is written in its change's transaction: begin one on the DbContext first.");
        return AuditLog.WriteAsync((NpgsqlConnection)db.Database.GetDbConnection(), (NpgsqlTransaction)tx.GetDbTransaction(), [Entry(action, target, details, actor)], ct);
    }

    /// <summary>
    /// Saves the context's changes and the entry together: in the context's transaction when it
    /// has one (the caller commits), else in one of its own, committed here.
    /// </summary>
    public async Task SaveChangesAsync(DbContext db, string action, string target, JsonObject? details, CancellationToken ct, AuditActor? actor = null)
    {
        if (db.Database.CurrentTransaction is not null)
        {
            await db.SaveChangesAsync(ct);
            await WriteAsync(db, action, target, details, ct, actor);
            return;
        }
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.SaveChangesAsync(ct);
        await WriteAsync(db, action, target, details, ct, actor);
        await tx.CommitAsync(ct);
    }

    /// <summary>A short fingerprint of a value for before/after details: says that it changed without saying what it is.</summary>
    public static string Fingerprint(string? value) =>
        value is null ? "" : Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)))[..16];

    /// <summary><c>{"changed": [names]}</c>, the names in the order given.</summary>
    public static JsonObject Changed(IEnumerable<string> fields, JsonObject? more = null)
    {
        var details = more ?? [];
        details["changed"] = new JsonArray(fields.Select(f => (JsonNode)f).ToArray());
        return details;
    }
}

/// <summary>The statement behind <see cref="AuditTrail"/>: entries in the caller's transaction, one round trip for any number.</summary>
public static class AuditLog
{
    public static async Task WriteAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, IReadOnlyCollection<AuditEntry> entries, CancellationToken ct)
    {
        if (entries.Count == 0)
            return;
        await using var cmd = new NpgsqlCommand("""
            insert into audit.entries (at, actor_kind, actor_id, actor_name, action, target, ip, details)
            select * from unnest(@at, @kind, @id, @name, @action, @target, @ip, @details)
            """, connection, tx);
        cmd.Parameters.AddWithValue("at", entries.Select(e => e.At.ToUniversalTime()).ToArray());
        cmd.Parameters.AddWithValue("kind", entries.Select(e => e.Actor.Kind).ToArray());
        cmd.Parameters.Add(new NpgsqlParameter("id", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = entries.Select(e => (object?)e.Actor.Id ?? DBNull.Value).ToArray() });
        cmd.Parameters.AddWithValue("name", entries.Select(e => e.Actor.Name).ToArray());
        cmd.Parameters.AddWithValue("action", entries.Select(e => e.Action).ToArray());
        cmd.Parameters.AddWithValue("target", entries.Select(e => e.Target).ToArray());
        cmd.Parameters.Add(new NpgsqlParameter("ip", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = entries.Select(e => (object?)e.Ip ?? DBNull.Value).ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter("details", NpgsqlDbType.Array | NpgsqlDbType.Jsonb) { Value = entries.Select(e => e.Details.ToJsonString()).ToArray() });
        await cmd.ExecuteNonQueryAsync(ct);
    }
}

/// <summary>Erasure of a person: the one rewrite the append-only trigger lets through (<c>audit.allow = 'erase'</c>, for this transaction only).</summary>
public static class AuditErasure
{
    /// <summary>
    /// Replaces <paramref name="name"/> by <paramref name="pseudonym"/> as actor, as target
    /// (<c>user/name</c>) and as any string value of the details, in the caller's transaction;
    /// returns the entries changed. The trail keeps what happened, not who it was.
    /// </summary>
    public static async Task<int> PseudonymiseAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string name, string pseudonym, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("""
            select set_config('audit.allow', 'erase', true);
            with changed as (
                update audit.entries set
                    actor_name = case when actor_name = @n then @p else actor_name end,
                    target = case when target = 'user/' || @n then 'user/' || @p else target end,
                    details = replace(details::text, to_json(@n::text)::text, to_json(@p::text)::text)::jsonb
                where actor_name = @n or target = 'user/' || @n or strpos(details::text, to_json(@n::text)::text) > 0
                returning 1)
            select count(*)::int from changed;
            select set_config('audit.allow', '', true);
            """, connection, tx);
        cmd.Parameters.AddWithValue("n", name);
        cmd.Parameters.AddWithValue("p", pseudonym);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        await reader.NextResultAsync(ct);
        await reader.ReadAsync(ct);
        return reader.GetInt32(0);
    }
}

/// <summary>Retention of the audit trail: entries older than <c>Audit:RetentionDays</c> (400; 0 keeps all). Returns the rows deleted.</summary>
public sealed record PurgeAuditHistory : Mediator.ICommand<int>;

/// <summary>How entries name what they changed: <c>kind/name</c>, a task under its run. The <c>target</c> filter matches one and what lies under it.</summary>
public static class AuditTargets
{
    public static string Dag(string name) => "dag/" + name;
    public static string Run(long id) => "run/" + id.ToString(CultureInfo.InvariantCulture);
    public static string Task(long runId, string taskId) => Run(runId) + "/task/" + taskId;
    public static string DeadLetter(long id) => "dead_letter/" + id.ToString(CultureInfo.InvariantCulture);
    public static string ApiKey(long id) => "api_key/" + id.ToString(CultureInfo.InvariantCulture);
    public static string User(string name) => "user/" + name;
    public static string Connection(string name) => "connection/" + name;
    public static string Channel(string name) => "channel/" + name;
    public static string Monitor(string name) => "monitor/" + name;
    public static string Pool(string name) => "pool/" + name;
    public static string Variable(string name) => "variable/" + name;
    public static string Calendar(string name) => "calendar/" + name;
    public static string Asset(string uri) => "asset/" + uri;
    public static string Team(string name) => "team/" + name;
    public const string Rules = "notification_rules";
    public const string Secrets = "secrets";
}
