using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;

namespace Scheduler.Modules.Dags;

/// <summary>
/// Removes the DAG and its versions; its schedule stops with the row. Runs, owned by the
/// Runs module, keep their history and refer to the DAG by name.
/// </summary>
internal static class DeleteDag
{
    public sealed record Command(string Name) : ICommand<bool>;

    public sealed class Handler(DagsDbContext db) : ICommandHandler<Command, bool>
    {
        public async ValueTask<bool> Handle(Command command, CancellationToken cancellationToken) =>
            await db.Dags.Where(d => d.Name == command.Name).ExecuteDeleteAsync(cancellationToken) > 0;
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder dags) => dags
        .MapDelete("/{name}", async Task<Results<NoContent, ProblemHttpResult>> (string name, ISender sender, CancellationToken ct) =>
            await sender.Send(new Command(name), ct) ? TypedResults.NoContent() : Problems.NotFound($"No DAG named '{name}'."))
        .WithName("DeleteDag")
        .WithSummary("Delete a DAG and stop its schedule")
        .ProducesProblem(StatusCodes.Status404NotFound)
        .RequireAuthorization(Policies.Admin);
}
