using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using Scheduler.Modules.Audit.Contracts;
using Scheduler.Modules.Workers.Connections;

namespace Scheduler.Modules.Workers.Variables;

/// <summary>Deletes a variable; templates that name it fail from then on (an undefined variable).</summary>
internal static class DeleteVariable
{
    public sealed record Command(string Name) : ICommand<bool>;

    public sealed class Handler(ConnectionsDbContext db, VariableStore store, AuditTrail audit) : ICommandHandler<Command, bool>
    {
        public async ValueTask<bool> Handle(Command command, CancellationToken cancellationToken)
        {
            await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
            var deleted = await db.Variables.Where(v => v.Name == command.Name).ExecuteDeleteAsync(cancellationToken) > 0;
            if (deleted)
                await audit.WriteAsync(db, "variable.delete", AuditTargets.Variable(command.Name), null, cancellationToken);
            await tx.CommitAsync(cancellationToken);
            store.Invalidate();
            return deleted;
        }
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder variables) => variables
        .MapDelete("/{name}", async Task<Results<NoContent, ProblemHttpResult>> (string name, ISender sender, CancellationToken ct) =>
            await sender.Send(new Command(name), ct) ? TypedResults.NoContent() : Problems.NotFound($"No variable named '{name}'."))
        .WithName("DeleteVariable").WithSummary("Delete a variable")
        .RequireVariableRole(Roles.Admin);
}
