using System.Text.Json.Nodes;
using FluentValidation;
using FluentValidation.Results;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using Scheduler.Modules.Access.Contracts;
using Scheduler.Infrastructure.OpenApi;
using Scheduler.Infrastructure.Schedules;
using Scheduler.Infrastructure.Validation;
using Scheduler.Modules.Audit.Contracts;
using Scheduler.Modules.Notifications.Contracts;
using static Scheduler.Modules.Notifications.Channels.ChannelResponses;

namespace Scheduler.Modules.Notifications.Channels;

/// <summary>
/// Creates a channel (POST, a 409 when the name is taken) or creates or replaces one (PUT).
/// A replace that leaves a secret setting out keeps its stored value, if the type is unchanged
/// and the secret's destination (URL or host) is too (<see cref="ChannelTypes.Split"/>).
/// </summary>
internal static class SaveChannel
{
    [SchemaName("Notifications.Channels.ManageChannels.DigestRequest")]
    public sealed record DigestRequest(string? Cron, string? Timezone);

    [SchemaName("Notifications.Channels.ManageChannels.Request")]
    public sealed record Request(string? Name, string? Type, JsonObject? Settings, DigestRequest? Digest, string? Team = null);

    public sealed record Command(string? Name, string? Type, JsonObject? Settings, DigestRequest? Digest, bool Replace, string? Team = null) : ICommand<(Info? Channel, bool Created)>;

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator(ISender sender)
        {
            RuleFor(s => s.Name).NotEmpty().Matches(Names.Pattern()).WithMessage($"'name' must match {Names.PatternText}.");
            RuleFor(s => s.Team).KnownTeam(sender);
            RuleFor(s => s.Type).NotEmpty().Must(t => t is null || ChannelTypes.Fields.ContainsKey(t))
                .WithMessage($"'type' must be one of {string.Join(", ", ChannelTypes.Names)}.");
            RuleFor(s => s.Settings).NotNull();
        }
    }

    /// <summary>The digest's schedule, or the validation errors of its fields.</summary>
    public static (CronSchedule? Schedule, List<ValidationFailure> Errors) ParseDigest(DigestRequest? digest)
    {
        var errors = new List<ValidationFailure>();
        if (digest is null)
            return (null, errors);
        var zone = TimeZoneInfo.Utc;
        if (digest.Timezone is not null && !TimeZones.TryFind(digest.Timezone, out zone))
            errors.Add(new ValidationFailure("digest.timezone", $"'{digest.Timezone}' is not an IANA time zone (for example Europe/Berlin or UTC)."));
        if (string.IsNullOrWhiteSpace(digest.Cron))
            errors.Add(new ValidationFailure("digest.cron", "'cron' is required for a digest."));
        else if (!CronSchedule.TryParse(digest.Cron, zone, out var schedule, out var error))
            errors.Add(new ValidationFailure("digest.cron", $"Invalid cron expression: {error}"));
        else if (errors.Count == 0)
            return (schedule, errors);
        return (null, errors);
    }

    public sealed class Handler(ChannelStore store, NpgsqlDataSource dataSource, TimeProvider clock, AuditTrail audit) : ICommandHandler<Command, (Info? Channel, bool Created)>
    {
        public async ValueTask<(Info? Channel, bool Created)> Handle(Command command, CancellationToken cancellationToken)
        {
            var existing = await store.GetAsync(command.Name!, cancellationToken);
            if (existing is not null && !command.Replace)
                return (null, false);
            var sameType = existing is not null && existing.Type == command.Type;
            var (settings, secrets, errors) = ChannelTypes.Split(command.Type!, command.Settings,
                sameType ? store.Unprotect(existing!.Secret) : null, sameType ? existing!.Settings : null);
            var (digest, digestErrors) = ParseDigest(command.Digest);
            errors.AddRange(digestErrors);
            if (errors.Count > 0)
                throw new ValidationException(errors);

            var now = clock.GetUtcNow();
            var changed = Changed(existing, command, settings, secrets, sameType ? store.Unprotect(existing!.Secret) : null);
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await using var tx = await connection.BeginTransactionAsync(cancellationToken);
            await using var cmd = new NpgsqlCommand($"""
                insert into notifications.channels as c (name, type, settings, secret, secret_fields, digest_cron, digest_timezone, digest_next_at, created_at, updated_at, team)
                values (@name, @type, @settings::jsonb, @secret, @fields, @cron, @zone, @next, @now, @now, @team)
                on conflict (name) do {(command.Replace ? """
                    update set type = excluded.type, settings = excluded.settings, secret = excluded.secret, secret_fields = excluded.secret_fields,
                        digest_cron = excluded.digest_cron, digest_timezone = excluded.digest_timezone,
                        digest_next_at = case when c.digest_cron is not distinct from excluded.digest_cron and c.digest_timezone is not distinct from excluded.digest_timezone
                                              then c.digest_next_at else excluded.digest_next_at end,
                        digest_message_ref = case when c.type = excluded.type then c.digest_message_ref end,
                        updated_at = excluded.updated_at, team = excluded.team
                    """ : "nothing")}
                returning id, (xmax = 0)
                """, connection, tx);
            cmd.Parameters.AddWithValue("name", command.Name!);
            cmd.Parameters.AddWithValue("type", command.Type!);
            cmd.Parameters.AddWithValue("settings", settings.ToJsonString());
            cmd.Parameters.AddWithValue("secret", secrets.Count == 0 ? DBNull.Value : store.Protect(secrets));
            cmd.Parameters.AddWithValue("fields", secrets.Select(s => s.Key).Order(StringComparer.Ordinal).ToArray());
            cmd.Parameters.AddWithValue("cron", (object?)command.Digest?.Cron?.Trim() ?? DBNull.Value);
            cmd.Parameters.AddWithValue("zone", digest is null ? DBNull.Value : command.Digest!.Timezone ?? "UTC");
            cmd.Parameters.AddWithValue("next", (object?)digest?.Next(now) ?? DBNull.Value);
            cmd.Parameters.AddWithValue("now", now);
            cmd.Parameters.Add(new NpgsqlParameter<string?>("team", command.Team));
            bool created;
            // Disposed exactly once, before the next query: a data source command's reader
            // belongs to its pooled connection, and a second dispose after the connection went
            // back to the pool closes whatever reader another request has open on it.
            await using (var reader = await cmd.ExecuteReaderAsync(cancellationToken))
            {
                if (!await reader.ReadAsync(cancellationToken))
                    return (null, false);
                created = reader.GetBoolean(1);
            }
            if (digest is not null || existing?.DigestCron is not null)
                await NotificationOutbox.TimesChangedAsync(connection, tx, cancellationToken);
            await audit.WriteAsync(connection, tx, created ? "channel.create" : "channel.update", AuditTargets.Channel(command.Name!), AuditTrail.Changed(changed), cancellationToken);
            await tx.CommitAsync(cancellationToken);
            return (ToInfo((await store.GetAsync(command.Name!, cancellationToken))!), created);
        }
    }

    /// <summary>The names of what a save changes: type, settings, secret settings (by name only), digest.</summary>
    private static List<string> Changed(ChannelRow? existing, Command command, JsonObject settings, JsonObject secrets, JsonObject? oldSecrets)
    {
        var changed = new List<string>();
        if (existing?.Type != command.Type)
            changed.Add("type");
        var old = existing?.Settings ?? [];
        foreach (var name in settings.Select(p => p.Key).Union(old.Select(p => p.Key)).Order(StringComparer.Ordinal))
            if (!JsonNode.DeepEquals(settings[name], old[name]))
                changed.Add("settings." + name);
        var before = oldSecrets ?? [];
        foreach (var name in secrets.Select(p => p.Key).Union(before.Select(p => p.Key)).Order(StringComparer.Ordinal))
            if (!JsonNode.DeepEquals(secrets[name], before[name]))
                changed.Add("settings." + name);
        if (existing?.DigestCron != command.Digest?.Cron?.Trim())
            changed.Add("digest");
        if (existing?.Team != command.Team)
            changed.Add("team");
        return changed;
    }

    /// <summary>Maps POST /channels (CreateChannel) and PUT /channels/{name} (UpsertChannel): one command, told apart by <see cref="Command.Replace"/>.</summary>
    public static void Map(RouteGroupBuilder channels)
    {
        channels.MapPost("/", async Task<Results<Created<Info>, ProblemHttpResult>> (Request r, ISender sender, HttpContext http, CancellationToken ct) =>
            {
                if (TeamGate.CreateRefusal(http, r.Team) is { } refused)
                    return refused;
                var (channel, _) = await sender.Send(new Command(r.Name, r.Type, r.Settings, r.Digest, Replace: false, r.Team), ct);
                return channel is null
                    ? Problems.Conflict($"A channel named '{r.Name}' already exists; use PUT to replace it.")
                    : TypedResults.Created($"/api/v1/channels/{channel.Name}", channel);
            })
            .WithName("CreateChannel").WithSummary("Create a notification channel (secret settings are encrypted and never shown again)")
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .RequireAuthorization(Policies.TeamAdmin);
        channels.MapPut("/{name}", async Task<Results<Created<Info>, Ok<Info>, ProblemHttpResult>> (string name, Request r, ISender sender, HttpContext http, CancellationToken ct) =>
            {
                if (TeamGate.CreateRefusal(http, r.Team) is { } refused)
                    return refused;
                var (channel, created) = await sender.Send(new Command(name, r.Type, r.Settings, r.Digest, Replace: true, r.Team), ct);
                return created ? TypedResults.Created($"/api/v1/channels/{name}", channel!) : TypedResults.Ok(channel!);
            })
            .WithName("UpsertChannel").WithSummary("Create or replace a channel; secret settings left out keep their stored values, unless their URL or host changes")
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .RequireChannelRole(Roles.Admin);
    }
}
