using System.Text.Json.Nodes;
using FluentValidation;
using FluentValidation.Results;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using Scheduler.Infrastructure.Schedules;
using Scheduler.Infrastructure.Validation;
using Scheduler.Modules.Notifications.Contracts;
using Scheduler.Modules.Notifications.Delivery;

namespace Scheduler.Modules.Notifications.Channels;

/// <summary>
/// Channels: admin-only. Secret settings (webhook URLs, tokens, passwords) are write-only:
/// encrypted at rest and never in a response; a replace that leaves one out keeps it.
/// </summary>
internal static class ManageChannels
{
    public sealed record DigestRequest(string? Cron, string? Timezone);

    public sealed record Request(string? Name, string? Type, JsonObject? Settings, DigestRequest? Digest);

    public sealed record DigestInfo(string Cron, string Timezone, DateTimeOffset? NextAt);

    public sealed record Info(string Name, string Type, JsonObject Settings, IReadOnlyList<string> SecretsSet, DigestInfo? Digest, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

    public sealed record Save(string? Name, string? Type, JsonObject? Settings, DigestRequest? Digest, bool Replace) : ICommand<(Info? Channel, bool Created)>;

    public sealed record List(int? Limit, string? Cursor) : IQuery<Page<Info>>;

    public sealed record Get(string Name) : IQuery<Info?>;

    public sealed record Delete(string Name) : ICommand<bool>;

    /// <summary>Sends a test message now; null when the channel does not exist.</summary>
    public sealed record TestSend(string Name) : ICommand<TestResult?>;

    public sealed record TestResult(string Channel, bool Delivered, string? Error, double DurationMs);

    public sealed class SaveValidator : AbstractValidator<Save>
    {
        public SaveValidator()
        {
            RuleFor(s => s.Name).NotEmpty().Matches(Names.Pattern()).WithMessage($"'name' must match {Names.PatternText}.");
            RuleFor(s => s.Type).NotEmpty().Must(t => t is null || ChannelTypes.Fields.ContainsKey(t))
                .WithMessage($"'type' must be one of {string.Join(", ", ChannelTypes.Names)}.");
            RuleFor(s => s.Settings).NotNull();
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

    public static Info ToInfo(ChannelRow row) => new(
        row.Name, row.Type, row.Settings, row.SecretFields,
        row.DigestCron is null ? null : new DigestInfo(row.DigestCron, row.DigestTimezone ?? "UTC", row.DigestNextAt),
        row.CreatedAt, row.UpdatedAt);

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

    public sealed class Handler(ChannelStore store, NpgsqlDataSource dataSource, ChannelSender sender, TimeProvider clock) :
        ICommandHandler<Save, (Info? Channel, bool Created)>, IQueryHandler<List, Page<Info>>, IQueryHandler<Get, Info?>,
        ICommandHandler<Delete, bool>, ICommandHandler<TestSend, TestResult?>
    {
        public async ValueTask<(Info? Channel, bool Created)> Handle(Save command, CancellationToken cancellationToken)
        {
            var existing = await store.GetAsync(command.Name!, cancellationToken);
            if (existing is not null && !command.Replace)
                return (null, false);
            var previousSecrets = existing is not null && existing.Type == command.Type ? store.Unprotect(existing.Secret) : null;
            var (settings, secrets, errors) = ChannelTypes.Split(command.Type!, command.Settings, previousSecrets);
            var (digest, digestErrors) = ParseDigest(command.Digest);
            errors.AddRange(digestErrors);
            if (errors.Count > 0)
                throw new ValidationException(errors);

            var now = clock.GetUtcNow();
            await using var cmd = dataSource.CreateCommand($"""
                insert into notifications.channels as c (name, type, settings, secret, secret_fields, digest_cron, digest_timezone, digest_next_at, created_at, updated_at)
                values (@name, @type, @settings::jsonb, @secret, @fields, @cron, @zone, @next, @now, @now)
                on conflict (name) do {(command.Replace ? """
                    update set type = excluded.type, settings = excluded.settings, secret = excluded.secret, secret_fields = excluded.secret_fields,
                        digest_cron = excluded.digest_cron, digest_timezone = excluded.digest_timezone,
                        digest_next_at = case when c.digest_cron is not distinct from excluded.digest_cron and c.digest_timezone is not distinct from excluded.digest_timezone
                                              then c.digest_next_at else excluded.digest_next_at end,
                        digest_message_ref = case when c.type = excluded.type then c.digest_message_ref end,
                        updated_at = excluded.updated_at
                    """ : "nothing")}
                returning id, (xmax = 0)
                """);
            cmd.Parameters.AddWithValue("name", command.Name!);
            cmd.Parameters.AddWithValue("type", command.Type!);
            cmd.Parameters.AddWithValue("settings", settings.ToJsonString());
            cmd.Parameters.AddWithValue("secret", secrets.Count == 0 ? DBNull.Value : store.Protect(secrets));
            cmd.Parameters.AddWithValue("fields", secrets.Select(s => s.Key).Order(StringComparer.Ordinal).ToArray());
            cmd.Parameters.AddWithValue("cron", (object?)command.Digest?.Cron?.Trim() ?? DBNull.Value);
            cmd.Parameters.AddWithValue("zone", digest is null ? DBNull.Value : command.Digest!.Timezone ?? "UTC");
            cmd.Parameters.AddWithValue("next", (object?)digest?.Next(now) ?? DBNull.Value);
            cmd.Parameters.AddWithValue("now", now);
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
                return (null, false);
            var created = reader.GetBoolean(1);
            await reader.DisposeAsync();
            if (digest is not null || existing?.DigestCron is not null)
            {
                await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
                await NotificationOutbox.TimesChangedAsync(connection, null, cancellationToken);
            }
            return (ToInfo((await store.GetAsync(command.Name!, cancellationToken))!), created);
        }

        public async ValueTask<Page<Info>> Handle(List query, CancellationToken cancellationToken)
        {
            var limit = query.Limit ?? Cursor.DefaultLimit;
            Cursor.TryDecode(query.Cursor, out var after);
            var rows = await store.ListAsync(after, limit + 1, cancellationToken);
            return Cursor.ToPage(rows.Select(ToInfo).ToList(), limit, c => c.Name);
        }

        public async ValueTask<Info?> Handle(Get query, CancellationToken cancellationToken) =>
            await store.GetAsync(query.Name, cancellationToken) is { } row ? ToInfo(row) : null;

        public async ValueTask<bool> Handle(Delete command, CancellationToken cancellationToken)
        {
            await using var cmd = dataSource.CreateCommand("delete from notifications.channels where name = @name");
            cmd.Parameters.AddWithValue("name", command.Name);
            return await cmd.ExecuteNonQueryAsync(cancellationToken) > 0;
        }

        public async ValueTask<TestResult?> Handle(TestSend command, CancellationToken cancellationToken)
        {
            if (await store.GetAsync(command.Name, cancellationToken) is not { } row)
                return null;
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            try
            {
                await sender.SendAsync(store.ToConfig(row), Messages.Test(row.Name, clock.GetUtcNow()), cancellationToken);
                return new TestResult(row.Name, true, null, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                return new TestResult(row.Name, false, ChannelSender.Describe(e), System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }
    }

    public static void Map(RouteGroupBuilder api)
    {
        var channels = api.MapGroup("/channels").WithTags("Notifications").RequireAuthorization(Policies.Admin);
        channels.MapPost("/", async Task<Results<Created<Info>, ProblemHttpResult>> (Request r, ISender sender, CancellationToken ct) =>
            {
                var (channel, _) = await sender.Send(new Save(r.Name, r.Type, r.Settings, r.Digest, Replace: false), ct);
                return channel is null
                    ? Problems.Conflict($"A channel named '{r.Name}' already exists; use PUT to replace it.")
                    : TypedResults.Created($"/api/v1/channels/{channel.Name}", channel);
            })
            .WithName("CreateChannel").WithSummary("Create a notification channel (secret settings are encrypted and never shown again)")
            .ProducesProblem(StatusCodes.Status409Conflict);
        channels.MapPut("/{name}", async Task<Results<Created<Info>, Ok<Info>>> (string name, Request r, ISender sender, CancellationToken ct) =>
            {
                var (channel, created) = await sender.Send(new Save(name, r.Type, r.Settings, r.Digest, Replace: true), ct);
                return created ? TypedResults.Created($"/api/v1/channels/{name}", channel!) : TypedResults.Ok(channel!);
            })
            .WithName("UpsertChannel").WithSummary("Create or replace a channel; secret settings left out keep their stored values");
        channels.MapGet("/", async Task<Ok<Page<Info>>> (ISender sender, CancellationToken ct, int? limit, string? cursor) =>
                TypedResults.Ok(await sender.Send(new List(limit, cursor), ct)))
            .WithName("ListChannels").WithSummary("List channels (never their secrets)");
        channels.MapGet("/{name}", async Task<Results<Ok<Info>, ProblemHttpResult>> (string name, ISender sender, CancellationToken ct) =>
                await sender.Send(new Get(name), ct) is { } info ? TypedResults.Ok(info) : Problems.NotFound($"No channel named '{name}'."))
            .WithName("GetChannel").WithSummary("One channel (never its secrets)")
            .ProducesProblem(StatusCodes.Status404NotFound);
        channels.MapDelete("/{name}", async Task<Results<NoContent, ProblemHttpResult>> (string name, ISender sender, CancellationToken ct) =>
                await sender.Send(new Delete(name), ct) ? TypedResults.NoContent() : Problems.NotFound($"No channel named '{name}'."))
            .WithName("DeleteChannel").WithSummary("Delete a channel and its delivery history")
            .ProducesProblem(StatusCodes.Status404NotFound);
        channels.MapPost("/{name}/test", async Task<Results<Ok<TestResult>, ProblemHttpResult>> (string name, ISender sender, CancellationToken ct) =>
                await sender.Send(new TestSend(name), ct) is { } result ? TypedResults.Ok(result) : Problems.NotFound($"No channel named '{name}'."))
            .WithName("TestChannel").WithSummary("Send a test message now and report whether the channel accepted it")
            .ProducesProblem(StatusCodes.Status404NotFound);
    }
}
