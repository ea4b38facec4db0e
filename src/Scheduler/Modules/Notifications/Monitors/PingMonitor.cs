using System.Security.Cryptography;
using System.Text;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Npgsql;
using Scheduler.Infrastructure.Http;
using Scheduler.Infrastructure.OpenApi;
using Scheduler.Modules.Notifications.Contracts;
using static Scheduler.Modules.Notifications.Monitors.MonitorResponses;

namespace Scheduler.Modules.Notifications.Monitors;

/// <summary>
/// Accepted pings per monitor (<c>RateLimits:MonitorPingsPerMinute</c>). Counted after the
/// token is checked: pings with a wrong token cannot use up the monitor's budget and so
/// cannot make its real pings be refused.
/// </summary>
internal sealed class MonitorPingLimiter(RateLimitOptions options) : KeyedRateLimiter(options.MonitorPingsPerMinute);

/// <summary>
/// The external job reports start, success (the default) or fail, authenticated by the
/// monitor's token alone (no API key). A failure, or a success after late or failed, is an
/// event for the monitor's channels. A monitor pinged more often than its limit gets 429.
/// </summary>
internal static class PingMonitor
{
    [SchemaName("Notifications.Monitors.ManageMonitors.PingRequest")]
    public sealed record Request(string? Status, double? DurationSeconds, string? Message);

    [SchemaName("Notifications.Monitors.ManageMonitors.PingResult")]
    public sealed record Result(string Monitor, string State, DateTimeOffset? ExpectedAt, DateTimeOffset? DeadlineAt);

    public enum Outcome { Accepted, NotFound, BadToken, TooMany }

    public sealed record Reply(Outcome Outcome, Result? Result = null, TimeSpan RetryAfter = default);

    public sealed record Command(string Name, string? Token, string Status, double? DurationSeconds, string? Message) : ICommand<Reply>;

    private static readonly string[] Kinds = ["start", "success", "fail"];

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator()
        {
            RuleFor(p => p.Status).Must(s => Kinds.Contains(s)).WithMessage("'status' must be start, success or fail.");
            RuleFor(p => p.DurationSeconds).InclusiveBetween(0, 366 * 86400.0).WithMessage("'duration_seconds' must be between 0 and a year.");
            RuleFor(p => p.Message).MaximumLength(4000);
        }
    }

    public sealed class Handler(NpgsqlDataSource dataSource, TimeProvider clock, MonitorPingLimiter limiter) : ICommandHandler<Command, Reply>
    {
        public async ValueTask<Reply> Handle(Command command, CancellationToken cancellationToken)
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
                return new Reply(Outcome.NotFound);
            if (command.Token is null || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Hash(command.Token)), Encoding.ASCII.GetBytes(tokenHash)))
                return new Reply(Outcome.BadToken);
            if (!limiter.TryAcquire(command.Name, out var retryAfter))
                return new Reply(Outcome.TooMany, RetryAfter: retryAfter);
            var m = (await MonitorStore.FindAsync(connection, tx, command.Name, true, cancellationToken))!;
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
            return new Reply(Outcome.Accepted, new Result(m.Name, m.Paused ? "paused" : state, expected, deadline));
        }
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder monitors) => monitors
        .MapPost("/{name}/ping", async Task<Results<Ok<Result>, ProblemHttpResult>> (string name, HttpRequest http, ISender sender, CancellationToken ct,
            [FromHeader(Name = "X-Monitor-Token")] string? token, [FromQuery] string? status) =>
        {
            Request? body = null;
            if (http.ContentLength is > 0 || http.Headers.TransferEncoding.Count > 0)
            {
                if (!http.HasJsonContentType())
                    return Problems.BadRequest("A ping body must be JSON: { \"status\": \"start|success|fail\", \"duration_seconds\": 12.5, \"message\": \"...\" }.");
                body = await http.ReadFromJsonAsync<Request>(ct);
            }
            var (outcome, result, retryAfter) = await sender.Send(new Command(name, token ?? http.Query["token"].FirstOrDefault(), body?.Status ?? status ?? "success", body?.DurationSeconds, body?.Message), ct);
            return outcome switch
            {
                Outcome.TooMany => Problems.TooManyRequests(http.HttpContext.Response, retryAfter, $"Monitor '{name}' was pinged more often than its limit; wait before pinging again."),
                Outcome.NotFound => Problems.NotFound($"No monitor named '{name}'."),
                Outcome.BadToken => TypedResults.Problem("The monitor's token is missing or wrong (send it in X-Monitor-Token or ?token=).",
                    statusCode: StatusCodes.Status403Forbidden, title: "Forbidden", type: Problems.TypeFor(403)),
                _ => TypedResults.Ok(result!),
            };
        })
        .AllowAnonymous()
        .Accepts<Request>("application/json")
        .WithName("PingMonitor").WithSummary("Report start, success (the default) or fail of the external job; authenticated by the monitor's token")
        .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status429TooManyRequests);
}
