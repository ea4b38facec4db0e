using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Scheduler.Infrastructure.Http;

namespace Scheduler.Modules.Workers.Connections;

/// <summary>Deletes a connection; tasks that name it no longer find it.</summary>
internal static class DeleteConnection
{
    public sealed record Command(string Name) : ICommand<bool>;

    public sealed class Handler(ConnectionsDbContext db) : ICommandHandler<Command, bool>
    {
        public async ValueTask<bool> Handle(Command command, CancellationToken cancellationToken) =>
            await db.Connections.Where(c => c.Name == command.Name).ExecuteDeleteAsync(cancellationToken) > 0;
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder connections) => connections
        .MapDelete("/{name}", async Task<Results<NoContent, ProblemHttpResult>> (string name, ISender sender, CancellationToken ct) =>
            await sender.Send(new Command(name), ct) ? TypedResults.NoContent() : Problems.NotFound($"No connection named '{name}'."))
        .WithName("DeleteConnection").WithSummary("Delete a connection")
        .ProducesProblem(StatusCodes.Status404NotFound);
}
