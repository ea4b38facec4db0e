using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using FluentValidation;
using FluentValidation.Results;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Npgsql;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using Scheduler.Infrastructure.Schedules;
using Scheduler.Infrastructure.Validation;
using Scheduler.Modules.Notifications.Contracts;

namespace Scheduler.Modules.Notifications.Monitors;

/// <summary>
/// Monitors of external jobs (cron jobs, other schedulers): they ping start / success / fail
/// with a per-monitor token; a missing ping past its grace makes the monitor late.
/// </summary>
internal static class ManageMonitors
{
    public sealed record Request(string? Name, string? Description, string? Cron, TimeSpan? Interval, string? Timezone, TimeSpan? Grace, List<string>? Channels);

    public sealed record Info(
        string Name, string? Description, string? Cron, TimeSpan? Interval, string Timezone, TimeSpan Grace, IReadOnlyList<string> Channels,
        string State, bool Paused, DateTimeOffset? ExpectedAt, DateTimeOffset? DeadlineAt, DateTimeOffset? LastPingAt, DateTimeOffset? LastStartAt,
        DateTimeOffset? LastSuccessAt, DateTimeOffset? LastFailureAt, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, string PingPath);

    /// <summary>The creation response: the only time the token is shown.</summary>
    public sealed record Created(Info Monitor, string Token);

    public sealed record Save(string? Name, string? Description, string? Cron, TimeSpan? Interval, string? Timezone, TimeSpan? Grace, List<string>? Channels, bool Replace)
        : ICommand<(Info? Monitor, string? Token)>;

    public sealed record List(int? Limit, string? Cursor, string? State) : IQuery<Page<Info>>;

    public sealed record Get(string Name) : IQuery<Info?>;

    public sealed record Delete(string Name) : ICommand<bool>;

    public sealed record SetPaused(string Name, bool Paused) : ICommand<Info?>;

    public sealed record RotateToken(string Name) : ICommand<Created?>;

    public sealed record PingInfo(long Id, string Kind, DateTimeOffset ReceivedAt, long? DurationMs, string? Message, bool Late);

    public sealed record ListPings(string Name, int? Limit, string? Cursor) : IQuery<Page<PingInfo>?>;

    public sealed record PingRequest(string? Status, double? DurationSeconds, string? Message);

    public sealed record PingResult(string Monitor, string State, DateTimeOffset? ExpectedAt, DateTimeOffset? DeadlineAt);

    public enum PingOutcome { Accepted, NotFound, BadToken }

    public sealed record Ping(string Name, string? Token, string Status, double? DurationSeconds, string? Message) : ICommand<(PingOutcome Outcome, PingResult? Result)>;

    private static readonly string[] Kinds = ["start", "success", "fail"];

    public sealed class SaveValidator : AbstractValidator<Save>
    {
        public SaveValidator()
        {
            RuleFor(s => s.Name).NotEmpty().Matches(Names.Pattern()).WithMessage($"'name' must match {Names.PatternText}.");
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

    public sealed class ListValidator : AbstractValidator<List>
    {
        public ListValidator()
        {
            RuleFor(q => q.Limit).ValidLimit();
            RuleFor(q => q.Cursor).ValidCursor();
            RuleFor(q => q.State).Must(s => s is null || s is "new" or "up" or "running" or "late" or "failed" or "paused")
                .WithMessage("'state' must be one of new, up, running, late, failed, paused.");
        }
    }

    public sealed class PingValidator : AbstractValidator<Ping>
    {
        public PingValidator()
        {
            RuleFor(p => p.Status).Must(s => Kinds.Contains(s)).WithMessage("'status' must be start, success or fail.");
            RuleFor(p => p.DurationSeconds).InclusiveBetween(0, 366 * 86400.0).WithMessage("'duration_seconds' must be between 0 and a year.");
            RuleFor(p => p.Message).MaximumLength(4000);
        }
    }

    public static Info ToInfo(MonitorRow m) => new(
        m.Name, m.Description, m.Cron, m.Interval, m.Timezone, m.Grace, m.Channels, m.Paused ? "paused" : m.State, m.Paused,
        m.ExpectedAt, m.DeadlineAt, m.LastPingAt, m.LastStartAt, m.LastSuccessAt, m.LastFailureAt, m.CreatedAt, m.UpdatedAt,
        $"/api/v1/monitors/{m.Name}/ping");

    private static string NewToken() => Base64Url(RandomNumberGenerator.GetBytes(24));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    public sealed class Handler(NpgsqlDataSource dataSource, TimeProvider clock) :
        ICommandHandler<Save, (Info? Monitor, string? Token)>, IQueryHandler<List, Page<Info>>, IQueryHandler<Get, Info?>,
        ICommandHandler<Delete, bool>, ICommandHandler<SetPaused, Info?>, ICommandHandler<RotateToken, Created?>,
        IQueryHandler<ListPings, Page<PingInfo>?>, ICommandHandler<Ping, (PingOutcome Outcome, PingResult? Result)>
    {
        private static DateTimeOffset Micro(DateTimeOffset t) => new(t.UtcTicks - t.UtcTicks % 10, TimeSpan.Zero);

        private async Task<MonitorRow?> FindAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, string name, bool forUpdate, CancellationToken ct) =>
            (await MonitorStore.QueryAsync(connection, tx, forUpdate ? "where name = @n for update" : "where name = @n", p => p.AddWithValue("n", name), ct)).FirstOrDefault();

        public async ValueTask<(Info? Monitor, string? Token)> Handle(Save command, CancellationToken cancellationToken)
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
            var existing = await FindAsync(connection, tx, command.Name!, forUpdate: true, cancellationToken);
            if (existing is not null && !command.Replace)
                return (null, null);
            var now = Micro(clock.GetUtcNow());
            var draft = new MonitorRow(existing?.Id ?? 0, command.Name!, command.Description, command.Cron?.Trim(), command.Interval, command.Timezone ?? "UTC",
                command.Grace ?? TimeSpan.FromMinutes(5), channels.ToArray(), existing?.State ?? MonitorStates.New, existing?.Paused ?? false,
                null, null, null, null, null, null, existing?.CreatedAt ?? now, now);
            var expected = draft.NextExpected(now);
            var late = existing?.State == MonitorStates.Late;
            string? token = null;
            await using (var cmd = new NpgsqlCommand(existing is null
                ? """
                  insert into notifications.monitors (name, description, cron, interval_seconds, timezone, grace_seconds, channels, token_hash, state, expected_at, deadline_at, created_at, updated_at)
                  values (@name, @description, @cron, @interval, @zone, @grace, @channels, @token, 'new', @expected, @deadline, @now, @now)
                  """
                : """
                  update notifications.monitors set description = @description, cron = @cron, interval_seconds = @interval, timezone = @zone,
                      grace_seconds = @grace, channels = @channels, expected_at = @expected, deadline_at = @deadline, updated_at = @now
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
                await cmd.ExecuteNonQueryAsync(cancellationToken);
            }
            var saved = await FindAsync(connection, tx, command.Name!, forUpdate: false, cancellationToken);
            await NotificationOutbox.TimesChangedAsync(connection, tx, cancellationToken);
            await tx.CommitAsync(cancellationToken);
            return (ToInfo(saved!), existing is null ? token : null);
        }

        public async ValueTask<Page<Info>> Handle(List query, CancellationToken cancellationToken)
        {
            var limit = query.Limit ?? Cursor.DefaultLimit;
            Cursor.TryDecode(query.Cursor, out var after);
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            var stateFilter = query.State switch
            {
                null => "",
                "paused" => "and paused",
                _ => "and not paused and state = @state",
            };
            var rows = await MonitorStore.QueryAsync(connection, null, $"where (@after::text is null or name > @after::text) {stateFilter} order by name limit {limit + 1}", p =>
            {
                p.AddWithValue("after", (object?)after ?? DBNull.Value);
                p.AddWithValue("state", (object?)query.State ?? DBNull.Value);
            }, cancellationToken);
            return Cursor.ToPage(rows.Select(ToInfo).ToList(), limit, m => m.Name);
        }

        public async ValueTask<Info?> Handle(Get query, CancellationToken cancellationToken)
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            return await FindAsync(connection, null, query.Name, false, cancellationToken) is { } row ? ToInfo(row) : null;
        }

        public async ValueTask<bool> Handle(Delete command, CancellationToken cancellationToken)
        {
            await using var cmd = dataSource.CreateCommand("delete from notifications.monitors where name = @n");
            cmd.Parameters.AddWithValue("n", command.Name);
            return await cmd.ExecuteNonQueryAsync(cancellationToken) > 0;
        }

        public async ValueTask<Info?> Handle(SetPaused command, CancellationToken cancellationToken)
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await using var tx = await connection.BeginTransactionAsync(cancellationToken);
            if (await FindAsync(connection, tx, command.Name, true, cancellationToken) is not { } row)
                return null;
            var expected = command.Paused ? row.ExpectedAt : row.NextExpected(clock.GetUtcNow());
            await using (var cmd = new NpgsqlCommand("update notifications.monitors set paused = @p, expected_at = @e, deadline_at = @d, updated_at = now() where id = @id", connection, tx))
            {
                cmd.Parameters.AddWithValue("p", command.Paused);
                cmd.Parameters.AddWithValue("e", (object?)expected ?? DBNull.Value);
                cmd.Parameters.AddWithValue("d", command.Paused || expected is null ? DBNull.Value : expected.Value + row.Grace);
                cmd.Parameters.AddWithValue("id", row.Id);
                await cmd.ExecuteNonQueryAsync(cancellationToken);
            }
            var saved = await FindAsync(connection, tx, command.Name, false, cancellationToken);
            await NotificationOutbox.TimesChangedAsync(connection, tx, cancellationToken);
            await tx.CommitAsync(cancellationToken);
            return ToInfo(saved!);
        }

        public async ValueTask<Created?> Handle(RotateToken command, CancellationToken cancellationToken)
        {
            var token = NewToken();
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await using (var cmd = new NpgsqlCommand("update notifications.monitors set token_hash = @t, updated_at = now() where name = @n", connection))
            {
                cmd.Parameters.AddWithValue("t", Hash(token));
                cmd.Parameters.AddWithValue("n", command.Name);
                if (await cmd.ExecuteNonQueryAsync(cancellationToken) == 0)
                    return null;
            }
            return new Created(ToInfo((await FindAsync(connection, null, command.Name, false, cancellationToken))!), token);
        }

        public async ValueTask<Page<PingInfo>?> Handle(ListPings query, CancellationToken cancellationToken)
        {
            var limit = query.Limit ?? Cursor.DefaultLimit;
            Cursor.TryDecode(query.Cursor, out var after);
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            if (await FindAsync(connection, null, query.Name, false, cancellationToken) is not { } monitor)
                return null;
            await using var cmd = new NpgsqlCommand($"""
                select id, kind, received_at, duration_ms, message, late from notifications.pings
                where monitor_id = @m and (@after::bigint is null or id < @after::bigint) order by id desc limit {limit + 1}
                """, connection);
            cmd.Parameters.AddWithValue("m", monitor.Id);
            cmd.Parameters.AddWithValue("after", long.TryParse(after, CultureInfo.InvariantCulture, out var a) ? a : DBNull.Value);
            var pings = new List<PingInfo>();
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
                pings.Add(new PingInfo(reader.GetInt64(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2),
                    reader.IsDBNull(3) ? null : reader.GetInt64(3), reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetBoolean(5)));
            return Cursor.ToPage(pings, limit, p => p.Id.ToString(CultureInfo.InvariantCulture));
        }

        public async ValueTask<(PingOutcome Outcome, PingResult? Result)> Handle(Ping command, CancellationToken cancellationToken)
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await using var tx = await connection.BeginTransactionAsync(cancellationToken);
            string? tokenHash;
            await using (var cmd = new NpgsqlCommand("select token_hash from notifications.monitors where name = @n", connection, tx))
            {
                cmd.Parameters.AddWithValue("n", command.Name);
                tokenHash = await cmd.ExecuteScalarAsync(cancellationToken) as string;
            }
            if (tokenHash is null)
                return (PingOutcome.NotFound, null);
            if (command.Token is null || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Hash(command.Token)), Encoding.ASCII.GetBytes(tokenHash)))
                return (PingOutcome.BadToken, null);
            var m = (await FindAsync(connection, tx, command.Name, true, cancellationToken))!;
            var now = clock.GetUtcNow();
            var wasLate = m.State == MonitorStates.Late || (m.DeadlineAt is { } d && d < now);
            long pingId;
            await using (var cmd = new NpgsqlCommand("""
                insert into notifications.pings (monitor_id, kind, received_at, duration_ms, message, late) values (@m, @k, now(), @dur, @msg, @late) returning id
                """, connection, tx))
            {
                cmd.Parameters.AddWithValue("m", m.Id);
                cmd.Parameters.AddWithValue("k", command.Status);
                cmd.Parameters.AddWithValue("dur", command.DurationSeconds is { } s ? (long)Math.Round(s * 1000) : DBNull.Value);
                cmd.Parameters.AddWithValue("msg", (object?)command.Message ?? DBNull.Value);
                cmd.Parameters.AddWithValue("late", wasLate && command.Status != "start");
                pingId = (long)(await cmd.ExecuteScalarAsync(cancellationToken))!;
            }
            var state = m.State;
            var expected = m.ExpectedAt;
            var deadline = m.DeadlineAt;
            string sql;
            if (command.Status == "start")
            {
                state = m.State == MonitorStates.Late ? MonitorStates.Late : MonitorStates.Running;
                sql = "last_start_at = now()";
            }
            else
            {
                state = command.Status == "success" ? MonitorStates.Up : MonitorStates.Failed;
                expected = m.NextExpected(now);
                deadline = m.Paused || expected is null ? null : expected + m.Grace;
                sql = command.Status == "success" ? "last_success_at = now()" : "last_failure_at = now()";
                if (command.Status == "fail")
                    await MonitorStore.WriteEventAsync(connection, tx, NotificationEvents.MonitorFailed, $"monitor_failed:{m.Id}:{pingId}", m.Id,
                        command.Message is null ? $"{m.Name} reported a failure." : $"{m.Name} reported a failure: {command.Message}", cancellationToken);
                else if (m.State is MonitorStates.Late or MonitorStates.Failed)
                    await MonitorStore.WriteEventAsync(connection, tx, NotificationEvents.MonitorRecovered, $"monitor_recovered:{m.Id}:{pingId}", m.Id,
                        $"{m.Name} reported success again (it was {m.State}).", cancellationToken);
            }
            await using (var cmd = new NpgsqlCommand($"update notifications.monitors set {sql}, last_ping_at = now(), state = @s, expected_at = @e, deadline_at = @d where id = @id", connection, tx))
            {
                cmd.Parameters.AddWithValue("s", state);
                cmd.Parameters.AddWithValue("e", (object?)expected ?? DBNull.Value);
                cmd.Parameters.AddWithValue("d", (object?)deadline ?? DBNull.Value);
                cmd.Parameters.AddWithValue("id", m.Id);
                await cmd.ExecuteNonQueryAsync(cancellationToken);
            }
            if (deadline != m.DeadlineAt)
                await NotificationOutbox.TimesChangedAsync(connection, tx, cancellationToken);
            await tx.CommitAsync(cancellationToken);
            return (PingOutcome.Accepted, new PingResult(m.Name, m.Paused ? "paused" : state, expected, deadline));
        }
    }

    public static void Map(RouteGroupBuilder api)
    {
        var monitors = api.MapGroup("/monitors").WithTags("Monitors").RequireAuthorization(Policies.Viewer);
        monitors.MapPost("/", async Task<Results<Created<Created>, ProblemHttpResult>> (Request r, ISender sender, CancellationToken ct) =>
            {
                var (monitor, token) = await sender.Send(new Save(r.Name, r.Description, r.Cron, r.Interval, r.Timezone, r.Grace, r.Channels, Replace: false), ct);
                return monitor is null
                    ? Problems.Conflict($"A monitor named '{r.Name}' already exists; use PUT to change it.")
                    : TypedResults.Created($"/api/v1/monitors/{monitor.Name}", new Created(monitor, token!));
            })
            .RequireAuthorization(Policies.Admin)
            .WithName("CreateMonitor").WithSummary("Register a monitor of an external job; the response holds its ping token, shown only once")
            .ProducesProblem(StatusCodes.Status409Conflict);
        monitors.MapPut("/{name}", async Task<IResult> (string name, Request r, ISender sender, CancellationToken ct) =>
            {
                var (monitor, token) = await sender.Send(new Save(name, r.Description, r.Cron, r.Interval, r.Timezone, r.Grace, r.Channels, Replace: true), ct);
                return token is not null ? TypedResults.Created($"/api/v1/monitors/{name}", new Created(monitor!, token)) : TypedResults.Ok(monitor!);
            })
            .RequireAuthorization(Policies.Admin)
            .WithName("UpsertMonitor").WithSummary("Create or change a monitor (a change keeps its token and state)")
            .Produces<Info>().Produces<Created>(StatusCodes.Status201Created);
        monitors.MapGet("/", async Task<Ok<Page<Info>>> (ISender sender, CancellationToken ct, int? limit, string? cursor, string? state) =>
                TypedResults.Ok(await sender.Send(new List(limit, cursor, state), ct)))
            .WithName("ListMonitors").WithSummary("Monitors with their state; filter by state (new, up, running, late, failed, paused)");
        monitors.MapGet("/{name}", async Task<Results<Ok<Info>, ProblemHttpResult>> (string name, ISender sender, CancellationToken ct) =>
                await sender.Send(new Get(name), ct) is { } info ? TypedResults.Ok(info) : Problems.NotFound($"No monitor named '{name}'."))
            .WithName("GetMonitor").WithSummary("One monitor's state")
            .ProducesProblem(StatusCodes.Status404NotFound);
        monitors.MapGet("/{name}/pings", async Task<Results<Ok<Page<PingInfo>>, ProblemHttpResult>> (string name, ISender sender, CancellationToken ct, int? limit, string? cursor) =>
                await sender.Send(new ListPings(name, limit, cursor), ct) is { } page ? TypedResults.Ok(page) : Problems.NotFound($"No monitor named '{name}'."))
            .WithName("ListMonitorPings").WithSummary("A monitor's pings, newest first")
            .ProducesProblem(StatusCodes.Status404NotFound);
        monitors.MapDelete("/{name}", async Task<Results<NoContent, ProblemHttpResult>> (string name, ISender sender, CancellationToken ct) =>
                await sender.Send(new Delete(name), ct) ? TypedResults.NoContent() : Problems.NotFound($"No monitor named '{name}'."))
            .RequireAuthorization(Policies.Admin)
            .WithName("DeleteMonitor").WithSummary("Delete a monitor and its pings")
            .ProducesProblem(StatusCodes.Status404NotFound);
        foreach (var (verb, paused) in new[] { ("pause", true), ("unpause", false) })
            monitors.MapPost($"/{{name}}/{verb}", async Task<Results<Ok<Info>, ProblemHttpResult>> (string name, ISender sender, CancellationToken ct) =>
                    await sender.Send(new SetPaused(name, paused), ct) is { } info ? TypedResults.Ok(info) : Problems.NotFound($"No monitor named '{name}'."))
                .RequireAuthorization(Policies.Operator)
                .WithName(paused ? "PauseMonitor" : "UnpauseMonitor").WithSummary(paused ? "Stop expecting pings (no late alerts)" : "Expect pings again from now")
                .ProducesProblem(StatusCodes.Status404NotFound);
        monitors.MapPost("/{name}/token", async Task<Results<Ok<Created>, ProblemHttpResult>> (string name, ISender sender, CancellationToken ct) =>
                await sender.Send(new RotateToken(name), ct) is { } created ? TypedResults.Ok(created) : Problems.NotFound($"No monitor named '{name}'."))
            .RequireAuthorization(Policies.Admin)
            .WithName("RotateMonitorToken").WithSummary("Issue a new ping token; the old one stops working")
            .ProducesProblem(StatusCodes.Status404NotFound);
        monitors.MapPost("/{name}/ping", async Task<Results<Ok<PingResult>, ProblemHttpResult>> (string name, HttpRequest http, ISender sender, CancellationToken ct,
                [FromHeader(Name = "X-Monitor-Token")] string? token, [FromQuery] string? status) =>
            {
                PingRequest? body = null;
                if (http.ContentLength is > 0 || http.Headers.TransferEncoding.Count > 0)
                {
                    if (!http.HasJsonContentType())
                        return Problems.BadRequest("A ping body must be JSON: { \"status\": \"start|success|fail\", \"duration_seconds\": 12.5, \"message\": \"...\" }.");
                    body = await http.ReadFromJsonAsync<PingRequest>(ct);
                }
                var (outcome, result) = await sender.Send(new Ping(name, token ?? http.Query["token"].FirstOrDefault(), body?.Status ?? status ?? "success", body?.DurationSeconds, body?.Message), ct);
                return outcome switch
                {
                    PingOutcome.NotFound => Problems.NotFound($"No monitor named '{name}'."),
                    PingOutcome.BadToken => TypedResults.Problem("The monitor's token is missing or wrong (send it in X-Monitor-Token or ?token=).",
                        statusCode: StatusCodes.Status403Forbidden, title: "Forbidden", type: Problems.TypeFor(403)),
                    _ => TypedResults.Ok(result!),
                };
            })
            .AllowAnonymous()
            .Accepts<PingRequest>("application/json")
            .WithName("PingMonitor").WithSummary("Report start, success (the default) or fail of the external job; authenticated by the monitor's token")
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
    }
}
