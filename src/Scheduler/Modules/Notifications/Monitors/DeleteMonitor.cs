using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using Scheduler.Modules.Audit.Contracts;

namespace Scheduler.Modules.Notifications.Monitors;

/// <summary>Deletes a monitor; its pings go with it (foreign key cascade).</summary>
internal static class DeleteMonitor
{
    public sealed record Command(string Name) : ICommand<bool>;

    public sealed class Handler(NpgsqlDataSource dataSource, AuditTrail audit) : ICommandHandler<Command, bool>
    {
        public async ValueTask<bool> Handle(Command command, CancellationToken cancellationToken)
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await using var tx = await connection.BeginTransactionAsync(cancellationToken);
            await using var cmd = new NpgsqlCommand("delete from notifications.monitors where name = @n", connection, tx);
            cmd.Parameters.AddWithValue("n", command.Name);
            if (await cmd.ExecuteNonQueryAsync(cancellationToken) == 0)
                return false;
            await audit.WriteAsync(connection, tx, "monitor.delete", AuditTargets.Monitor(command.Name), null, cancellationToken);
            await tx.CommitAsync(cancellationToken);
            return true;
        }
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder monitors) => monitors
        .MapDelete("/{name}", async Task<Results<NoContent, ProblemHttpResult>> (string name, ISender sender, CancellationToken ct) =>
            await sender.Send(new Command(name), ct) ? TypedResults.NoContent() : Problems.NotFound($"No monitor named '{name}'."))
        .RequireMonitorRole(Roles.Admin)
        .WithName("DeleteMonitor").WithSummary("Delete a monitor and its pings")
        .ProducesProblem(StatusCodes.Status404NotFound);
}
