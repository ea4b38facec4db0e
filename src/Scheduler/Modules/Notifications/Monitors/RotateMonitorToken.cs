using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using Scheduler.Modules.Audit.Contracts;
using static Scheduler.Modules.Notifications.Monitors.MonitorResponses;

namespace Scheduler.Modules.Notifications.Monitors;

/// <summary>Issues a new ping token (shown once, in the response); the old one stops working at once. Null when there is no such monitor.</summary>
internal static class RotateMonitorToken
{
    public sealed record Command(string Name) : ICommand<MonitorResponses.Created?>;

    public sealed class Handler(NpgsqlDataSource dataSource, AuditTrail audit) : ICommandHandler<Command, MonitorResponses.Created?>
    {
        public async ValueTask<MonitorResponses.Created?> Handle(Command command, CancellationToken cancellationToken)
        {
            var token = NewToken();
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await using (var tx = await connection.BeginTransactionAsync(cancellationToken))
            {
                await using var cmd = new NpgsqlCommand("update notifications.monitors set token_hash = @t, updated_at = now() where name = @n", connection, tx);
                cmd.Parameters.AddWithValue("t", Hash(token));
                cmd.Parameters.AddWithValue("n", command.Name);
                if (await cmd.ExecuteNonQueryAsync(cancellationToken) == 0)
                    return null;
                await audit.WriteAsync(connection, tx, "monitor.token", AuditTargets.Monitor(command.Name), null, cancellationToken);
                await tx.CommitAsync(cancellationToken);
            }
            return new MonitorResponses.Created(ToInfo((await MonitorStore.FindAsync(connection, null, command.Name, false, cancellationToken))!), token);
        }
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder monitors) => monitors
        .MapPost("/{name}/token", async Task<Results<Ok<MonitorResponses.Created>, ProblemHttpResult>> (string name, ISender sender, CancellationToken ct) =>
            await sender.Send(new Command(name), ct) is { } created ? TypedResults.Ok(created) : Problems.NotFound($"No monitor named '{name}'."))
        .RequireMonitorRole(Roles.Admin)
        .WithName("RotateMonitorToken").WithSummary("Issue a new ping token; the old one stops working")
        .ProducesProblem(StatusCodes.Status404NotFound);
}
