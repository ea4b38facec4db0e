using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using Scheduler.Modules.Audit.Contracts;

namespace Scheduler.Modules.Dags.Calendars;

/// <summary>Deletes a calendar no DAG excludes; while one does, a 409 naming them.</summary>
internal static class DeleteCalendar
{
    public sealed record Command(string Name) : ICommand<Result>;

    public sealed record Result(bool Found, IReadOnlyList<string> UsedBy);

    public sealed class Handler(DagsDbContext db, AuditTrail audit) : ICommandHandler<Command, Result>
    {
        public async ValueTask<Result> Handle(Command command, CancellationToken cancellationToken)
        {
            await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
            var found = await db.Calendars.FromSql($"select * from dags.calendars where name = {command.Name} for update").AnyAsync(cancellationToken);
            if (!found)
                return new Result(false, []);
            var users = await db.Dags.FromSql($"select * from dags.dags where jsonb_exists(definition -> 'exclude_calendars', {command.Name})")
                .OrderBy(d => d.Name).Select(d => d.Name).Take(20).ToListAsync(cancellationToken);
            if (users.Count > 0)
                return new Result(true, users);
            await db.Calendars.Where(c => c.Name == command.Name).ExecuteDeleteAsync(cancellationToken);
            await audit.WriteAsync(db, "calendar.delete", AuditTargets.Calendar(command.Name), null, cancellationToken);
            await tx.CommitAsync(cancellationToken);
            return new Result(true, []);
        }
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder calendars) => calendars
        .MapDelete("/{name}", async Task<Results<NoContent, ProblemHttpResult>> (string name, ISender sender, CancellationToken ct) =>
        {
            var result = await sender.Send(new Command(name), ct);
            if (!result.Found)
                return Problems.NotFound($"No calendar named '{name}'.");
            if (result.UsedBy.Count > 0)
                return Problems.Conflict($"Calendar '{name}' is excluded by DAG(s) {string.Join(", ", result.UsedBy)}; remove it from their 'exclude_calendars' first.");
            return TypedResults.NoContent();
        })
        .WithName("DeleteCalendar").WithSummary("Delete a calendar (refused while a DAG excludes it)")
        .ProducesProblem(StatusCodes.Status404NotFound)
        .ProducesProblem(StatusCodes.Status409Conflict)
        .RequireAuthorization(Policies.Admin);
}
