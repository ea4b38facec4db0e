using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using Scheduler.Modules.Audit.Contracts;

namespace Scheduler.Modules.Workers.Connections;

/// <summary>Deletes a connection; tasks that name it no longer find it.</summary>
internal static class DeleteConnection
{
    public sealed record Command(string Name) : ICommand<bool>;

    public sealed class Handler(ConnectionsDbContext db, AuditTrail audit) : ICommandHandler<Command, bool>
    {
        public async ValueTask<bool> Handle(Command command, CancellationToken cancellationToken)
        {
            await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
            if (await db.Connections.Where(c => c.Name == command.Name).ExecuteDeleteAsync(cancellationToken) == 0)
                return false;
            await audit.WriteAsync(db, "connection.delete", AuditTargets.Connection(command.Name), null, cancellationToken);
            await tx.CommitAsync(cancellationToken);
            return true;
        }
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder connections) => connections
        .MapDelete("/{name}", async Task<Results<NoContent, ProblemHttpResult>> (string name, ISender sender, CancellationToken ct) =>
            await sender.Send(new Command(name), ct) ? TypedResults.NoContent() : Problems.NotFound($"No connection named '{name}'."))
        .WithName("DeleteConnection").WithSummary("Delete a connection")
        .RequireConnectionRole(Roles.Admin);
}
