using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;

namespace Scheduler.Modules.Notifications.Monitors;

/// <summary>Deletes a monitor; its pings go with it (foreign key cascade).</summary>
internal static class DeleteMonitor
{
    public sealed record Command(string Name) : ICommand<bool>;

    public sealed class Handler(NpgsqlDataSource dataSource) : ICommandHandler<Command, bool>
    {
        public async ValueTask<bool> Handle(Command command, CancellationToken cancellationToken)
        {
            await using var cmd = dataSource.CreateCommand("delete from notifications.monitors where name = @n");
            cmd.Parameters.AddWithValue("n", command.Name);
            return await cmd.ExecuteNonQueryAsync(cancellationToken) > 0;
        }
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder monitors) => monitors
        .MapDelete("/{name}", async Task<Results<NoContent, ProblemHttpResult>> (string name, ISender sender, CancellationToken ct) =>
            await sender.Send(new Command(name), ct) ? TypedResults.NoContent() : Problems.NotFound($"No monitor named '{name}'."))
        .RequireAuthorization(Policies.Admin)
        .WithName("DeleteMonitor").WithSummary("Delete a monitor and its pings")
        .ProducesProblem(StatusCodes.Status404NotFound);
}
