using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using Scheduler.Modules.Dags.Definitions;
using Scheduler.Infrastructure.Schedules;

namespace Scheduler.Modules.Dags;

/// <summary>
/// The next N fire times as UTC instants, computed by the same code the scheduler uses,
/// inside the DAG's start/end window.
/// </summary>
internal static class GetDagSchedule
{
    public const int MaxCount = 1000;

    public sealed record Query(string Name, int? Count, DateTimeOffset? From) : IQuery<Response?>;

    public sealed record Response(string Name, string? Cron, string? Interval, string Timezone, DateTimeOffset From, IReadOnlyList<DateTimeOffset> Items);

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator() => RuleFor(q => q.Count).InclusiveBetween(1, MaxCount);
    }

    public sealed class Handler(DagsDbContext db, TimeProvider clock) : IQueryHandler<Query, Response?>
    {
        public async ValueTask<Response?> Handle(Query query, CancellationToken cancellationToken)
        {
            var dag = await db.Dags.AsNoTracking().SingleOrDefaultAsync(d => d.Name == query.Name, cancellationToken);
            if (dag is null)
                return null;
            var definition = CanonicalJson.Deserialize(dag.Definition);
            var prepared = PreparedDefinition.From(definition);
            var from = (query.From ?? clock.GetUtcNow()).ToUniversalTime();
            var items = new List<DateTimeOffset>();
            if (prepared.Schedule is not null)
            {
                var after = definition.StartDate is { } start && start > from ? start.AddTicks(-1) : from;
                foreach (var fire in prepared.Schedule.Upcoming(after, query.Count ?? 10))
                {
                    if (definition.EndDate is { } end && fire > end)
                        break;
                    items.Add(fire);
                }
            }
            return new Response(dag.Name, dag.Cron, DagMapping.IntervalText(dag.IntervalSeconds), dag.Timezone, from, items);
        }
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder dags) => dags
        .MapGet("/{name}/schedule", async Task<Results<Ok<Response>, ProblemHttpResult>> (string name, ISender sender, CancellationToken ct, int? count, DateTimeOffset? from) =>
            await sender.Send(new Query(name, count, from), ct) is { } r ? TypedResults.Ok(r) : Problems.NotFound($"No DAG named '{name}'."))
        .WithName("GetDagSchedule")
        .WithSummary("The next N fire times (UTC instants) from now or from ?from=")
        .ProducesProblem(StatusCodes.Status404NotFound)
        .RequireAuthorization(Policies.Viewer);
}
