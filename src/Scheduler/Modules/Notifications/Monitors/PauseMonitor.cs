using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Scheduler.Modules.Audit.Contracts;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using Scheduler.Modules.Notifications.Contracts;
using static Scheduler.Modules.Notifications.Monitors.MonitorResponses;

namespace Scheduler.Modules.Notifications.Monitors;

/// <summary>
/// Pauses a monitor (no deadline, so no late alert) or unpauses it (pings expected again from
/// now); null when there is no such monitor.
/// </summary>
internal static class PauseMonitor
{
    public sealed record Command(string Name, bool Paused) : ICommand<Info?>;

    public sealed class Handler(NpgsqlDataSource dataSource, TimeProvider clock, AuditTrail audit) : ICommandHandler<Command, Info?>
    {
        public async ValueTask<Info?> Handle(Command command, CancellationToken cancellationToken)
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await using var tx = await connection.BeginTransactionAsync(cancellationToken);
            if (await MonitorStore.FindAsync(connection, tx, command.Name, true, cancellationToken) is not { } row)
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
            var saved = await MonitorStore.FindAsync(connection, tx, command.Name, false, cancellationToken);
            await NotificationOutbox.TimesChangedAsync(connection, tx, cancellationToken);
            if (row.Paused != command.Paused)
                await audit.WriteAsync(connection, tx, command.Paused ? "monitor.pause" : "monitor.unpause", AuditTargets.Monitor(command.Name), null, cancellationToken);
            await tx.CommitAsync(cancellationToken);
            return ToInfo(saved!);
        }
    }

    /// <summary>Maps POST /monitors/{name}/pause (PauseMonitor) and POST /monitors/{name}/unpause (UnpauseMonitor).</summary>
    public static void Map(RouteGroupBuilder monitors)
    {
        foreach (var (verb, paused) in new[] { ("pause", true), ("unpause", false) })
            monitors.MapPost($"/{{name}}/{verb}", async Task<Results<Ok<Info>, ProblemHttpResult>> (string name, ISender sender, CancellationToken ct) =>
                    await sender.Send(new Command(name, paused), ct) is { } info ? TypedResults.Ok(info) : Problems.NotFound($"No monitor named '{name}'."))
                .RequireMonitorRole(Roles.Operator)
                .WithName(paused ? "PauseMonitor" : "UnpauseMonitor").WithSummary(paused ? "Stop expecting pings (no late alerts)" : "Expect pings again from now")
                .ProducesProblem(StatusCodes.Status404NotFound);
    }
}
