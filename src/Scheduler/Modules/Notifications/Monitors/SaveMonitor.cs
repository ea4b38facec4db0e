using FluentValidation;
using FluentValidation.Results;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Scheduler.Modules.Audit.Contracts;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using Scheduler.Infrastructure.OpenApi;
using Scheduler.Infrastructure.Schedules;
using Scheduler.Infrastructure.Validation;
using Scheduler.Modules.Access.Contracts;
using Scheduler.Modules.Notifications.Contracts;
using static Scheduler.Modules.Notifications.Monitors.MonitorResponses;

namespace Scheduler.Modules.Notifications.Monitors;

/// <summary>
/// Registers a monitor (POST, a 409 when the name is taken) or creates or changes one (PUT).
/// A new monitor gets a token, shown once; a change keeps the token and the state.
/// </summary>
internal static class SaveMonitor
{
    [SchemaName("Notifications.Monitors.ManageMonitors.Request")]
    public sealed record Request(string? Name, string? Description, string? Cron, TimeSpan? Interval, string? Timezone, TimeSpan? Grace, List<string>? Channels, string? Team = null);

    /// <summary>The token is set only when the monitor was created; the monitor is null when it existed and <see cref="Replace"/> is false.</summary>
    public sealed record Command(string? Name, string? Description, string? Cron, TimeSpan? Interval, string? Timezone, TimeSpan? Grace, List<string>? Channels, bool Replace, string? Team = null)
        : ICommand<(Info? Monitor, string? Token)>;

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator(ISender sender)
        {
            RuleFor(s => s.Name).NotEmpty().Matches(Names.Pattern()).WithMessage($"'name' must match {Names.PatternText}.");
            RuleFor(s => s.Team).KnownTeam(sender);
            RuleFor(s => s.Description).MaximumLength(1000);
            RuleFor(s => s).Must(s => (s.Cron is null) != (s.Interval is null)).WithName("cron").OverridePropertyName("cron")
                .WithMessage("Give exactly one of 'cron' and 'interval'.");
            RuleFor(s => s.Interval).InclusiveBetween(TimeSpan.FromSeconds(1), TimeSpan.FromDays(366)).WithMessage("'interval' must be between 1 second and 366 days.");
            RuleFor(s => s.Grace).InclusiveBetween(TimeSpan.Zero, TimeSpan.FromDays(7)).WithMessage("'grace' must be between 0 and 7 days.");
            RuleFor(s => s.Timezone).Must(z => z is null || TimeZones.TryFind(z, out _)).WithMessage(s => $"'{s.Timezone}' is not an IANA time zone (for example Europe/Berlin or UTC).");
            RuleFor(s => s.Cron).Must((s, cron) => cron is null || !TimeZones.TryFind(s.Timezone ?? "UTC", out var zone) || CronSchedule.TryParse(cron, zone, out _, out _))
                .WithMessage(s => TimeZones.TryFind(s.Timezone ?? "UTC", out var zone) && !CronSchedule.TryParse(s.Cron!, zone, out _, out var error) ? $"Invalid cron expression: {error}" : "Invalid cron expression.");
            RuleFor(s => s.Channels).Must(c => c is null || c.Count <= 20).WithMessage("At most 20 channels.");
            RuleForEach(s => s.Channels).NotEmpty().Matches(Names.Pattern());
        }
    }

    public sealed class Handler(NpgsqlDataSource dataSource, TimeProvider clock, AuditTrail audit) : ICommandHandler<Command, (Info? Monitor, string? Token)>
    {
        /// <summary>PostgreSQL keeps microseconds: the response shows what a later read will show.</summary>
        private static DateTimeOffset Micro(DateTimeOffset t) => new(t.UtcTicks - t.UtcTicks % 10, TimeSpan.Zero);

        public async ValueTask<(Info? Monitor, string? Token)> Handle(Command command, CancellationToken cancellationToken)
        {
            var channels = command.Channels ?? [];
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await using var tx = await connection.BeginTransactionAsync(cancellationToken);
            if (channels.Count > 0)
            {
                await using var cmd = new NpgsqlCommand("select name from notifications.channels where name = any(@n)", connection, tx);
                cmd.Parameters.AddWithValue("n", channels.ToArray());
                var known = new HashSet<string>(StringComparer.Ordinal);
                await using (var reader = await cmd.ExecuteReaderAsync(cancellationToken))
                    while (await reader.ReadAsync(cancellationToken))
                        known.Add(reader.GetString(0));
                var errors = channels.Select((c, i) => (c, i)).Where(x => !known.Contains(x.c))
                    .Select(x => new ValidationFailure($"channels[{x.i}]", $"There is no channel named '{x.c}'.")).ToList();
                if (errors.Count > 0)
                    throw new ValidationException(errors);
            }
            var existing = await MonitorStore.FindAsync(connection, tx, command.Name!, forUpdate: true, cancellationToken);
            if (existing is not null && !command.Replace)
                return (null, null);
            var now = Micro(clock.GetUtcNow());
            var draft = new MonitorRow(existing?.Id ?? 0, command.Name!, command.Description, command.Cron?.Trim(), command.Interval, command.Timezone ?? "UTC",
                command.Grace ?? TimeSpan.FromMinutes(5), channels.ToArray(), existing?.State ?? MonitorStates.New, existing?.Paused ?? false,
                null, null, null, null, null, null, existing?.CreatedAt ?? now, now, command.Team);
            var expected = draft.NextExpected(now);
            var late = existing?.State == MonitorStates.Late;
            string? token = null;
            await using (var cmd = new NpgsqlCommand(existing is null
                ? """
                  insert into notifications.monitors (name, description, cron, interval_seconds, timezone, grace_seconds, channels, token_hash, state, expected_at, deadline_at, created_at, updated_at, team)
                  values (@name, @description, @cron, @interval, @zone, @grace, @channels, @token, 'new', @expected, @deadline, @now, @now, @team)
                  """
                : """
                  update notifications.monitors set description = @description, cron = @cron, interval_seconds = @interval, timezone = @zone,
                      grace_seconds = @grace, channels = @channels, expected_at = @expected, deadline_at = @deadline, updated_at = @now, team = @team
                  where name = @name
                  """, connection, tx))
            {
                cmd.Parameters.AddWithValue("name", command.Name!);
                cmd.Parameters.AddWithValue("description", (object?)command.Description ?? DBNull.Value);
                cmd.Parameters.AddWithValue("cron", (object?)draft.Cron ?? DBNull.Value);
                cmd.Parameters.AddWithValue("interval", command.Interval is { } i ? (long)Math.Ceiling(i.TotalSeconds) : DBNull.Value);
                cmd.Parameters.AddWithValue("zone", draft.Timezone);
                cmd.Parameters.AddWithValue("grace", (long)Math.Ceiling(draft.Grace.TotalSeconds));
                cmd.Parameters.AddWithValue("channels", draft.Channels);
                cmd.Parameters.AddWithValue("token", Hash(token = NewToken()));
                cmd.Parameters.AddWithValue("expected", (object?)expected ?? DBNull.Value);
                cmd.Parameters.AddWithValue("deadline", late || draft.Paused || expected is null ? DBNull.Value : expected.Value + draft.Grace);
                cmd.Parameters.AddWithValue("now", now);
                cmd.Parameters.Add(new NpgsqlParameter<string?>("team", command.Team));
                await cmd.ExecuteNonQueryAsync(cancellationToken);
            }
            var saved = await MonitorStore.FindAsync(connection, tx, command.Name!, forUpdate: false, cancellationToken);
            await NotificationOutbox.TimesChangedAsync(connection, tx, cancellationToken);
            await audit.WriteAsync(connection, tx, existing is null ? "monitor.create" : "monitor.update", AuditTargets.Monitor(command.Name!),
                existing is null ? null : AuditTrail.Changed(Changed(existing, saved!)), cancellationToken);
            await tx.CommitAsync(cancellationToken);
            return (ToInfo(saved!), existing is null ? token : null);
        }

        private static IEnumerable<string> Changed(MonitorRow before, MonitorRow after)
        {
            if (before.Description != after.Description) yield return "description";
            if (before.Cron != after.Cron) yield return "cron";
            if (before.Interval != after.Interval) yield return "interval";
            if (before.Timezone != after.Timezone) yield return "timezone";
            if (before.Grace != after.Grace) yield return "grace";
            if (!before.Channels.SequenceEqual(after.Channels)) yield return "channels";
            if (before.Team != after.Team) yield return "team";
        }
    }

    /// <summary>Maps POST /monitors (CreateMonitor) and PUT /monitors/{name} (UpsertMonitor): one command, told apart by <see cref="Command.Replace"/>.</summary>
    public static void Map(RouteGroupBuilder monitors)
    {
        monitors.MapPost("/", async Task<Results<Created<MonitorResponses.Created>, ProblemHttpResult>> (Request r, ISender sender, HttpContext http, CancellationToken ct) =>
            {
                if (TeamGate.CreateRefusal(http, r.Team) is { } refused)
                    return refused;
                var (monitor, token) = await sender.Send(new Command(r.Name, r.Description, r.Cron, r.Interval, r.Timezone, r.Grace, r.Channels, Replace: false, r.Team), ct);
                return monitor is null
                    ? Problems.Conflict($"A monitor named '{r.Name}' already exists; use PUT to change it.")
                    : TypedResults.Created($"/api/v1/monitors/{monitor.Name}", new MonitorResponses.Created(monitor, token!));
            })
            .RequireAuthorization(Policies.TeamAdmin)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .WithName("CreateMonitor").WithSummary("Register a monitor of an external job; the response holds its ping token, shown only once")
            .ProducesProblem(StatusCodes.Status409Conflict);
        monitors.MapPut("/{name}", async Task<IResult> (string name, Request r, ISender sender, HttpContext http, CancellationToken ct) =>
            {
                if (TeamGate.CreateRefusal(http, r.Team) is { } refused)
                    return refused;
                var (monitor, token) = await sender.Send(new Command(name, r.Description, r.Cron, r.Interval, r.Timezone, r.Grace, r.Channels, Replace: true, r.Team), ct);
                return token is not null ? TypedResults.Created($"/api/v1/monitors/{name}", new MonitorResponses.Created(monitor!, token)) : TypedResults.Ok(monitor!);
            })
            .RequireMonitorRole(Roles.Admin)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .WithName("UpsertMonitor").WithSummary("Create or change a monitor (a change keeps its token and state)")
            .Produces<Info>().Produces<MonitorResponses.Created>(StatusCodes.Status201Created);
    }
}
