using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using Scheduler.Modules.Dags.Definitions;
using System.Text.Json.Serialization;
using Scheduler.Modules.Dags.Calendars;
using Scheduler.Modules.Dags.Scheduling;

using Scheduler.Modules.Dags.Contracts;

namespace Scheduler.Modules.Dags;

/// <summary>
/// The next N fire times as UTC instants, decided by the function the scheduler uses
/// (<see cref="FireTimes"/>): inside the DAG's start/end window, calendars and maintenance windows applied.
/// </summary>
internal static class GetDagSchedule
{
    public const int MaxCount = 1000;

    public sealed record Query(string Name, int? Count, DateTimeOffset? From) : IQuery<Response?>;

    /// <param name="Items">The logical dates that will run (skipped ones left out).</param>
    /// <param name="Fires">Every fire time up to the last item, skipped ones included: why skipped, or when due if a maintenance window holds it.</param>
    public sealed record Response(string Name, string? Cron, string? Interval, string Timezone, DateTimeOffset From,
        IReadOnlyList<DateTimeOffset> Items, IReadOnlyList<FireInfo> Fires);

    public sealed record FireInfo(
        DateTimeOffset LogicalDate,
        bool Skipped,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] DateTimeOffset? DueAt,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Reason);

    /// <summary>Skipped fire times listed at most this many times the count (a calendar that excludes years of days).</summary>
    private const int MaxSkippedPerItem = 100;

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator() => RuleFor(q => q.Count).InclusiveBetween(1, MaxCount);
    }

    public sealed class Handler(DagsDbContext db, CalendarCache calendars, TimeProvider clock) : IQueryHandler<Query, Response?>
    {
        public async ValueTask<Response?> Handle(Query query, CancellationToken cancellationToken)
        {
            var dag = await db.Dags.AsNoTracking().SingleOrDefaultAsync(d => d.Name == query.Name, cancellationToken);
            if (dag is null)
                return null;
            var definition = CanonicalJson.Deserialize(dag.Definition);
            var prepared = PreparedDefinition.From(definition);
            var from = (query.From ?? clock.GetUtcNow()).ToUniversalTime();
            var count = query.Count ?? 10;
            var items = new List<DateTimeOffset>();
            var fires = new List<FireInfo>();
            if (prepared.Rules is { } rules)
            {
                rules = ScheduleRules.WithCalendars(rules, definition, await calendars.GetAsync(cancellationToken));
                // Fire times already past but held by a window still open come first.
                var held = FireTimes.HeldSince(rules.Windows, from);
                foreach (var fire in FireTimes.After(rules, held == from ? from : held.AddTicks(-1), everySkip: true))
                {
                    if (fire.LogicalDate <= from && (fire.Skipped || fire.DueAt <= from))
                        continue;
                    if (fire.Skipped)
                        fires.Add(new FireInfo(fire.LogicalDate, true, null, fire.SkippedBy));
                    else
                    {
                        items.Add(fire.LogicalDate);
                        fires.Add(new FireInfo(fire.LogicalDate, false, fire.DueAt == DateTimeOffset.MaxValue ? null : fire.DueAt, fire.HeldBy));
                    }
                    if (items.Count >= count || fires.Count >= count * MaxSkippedPerItem)
                        break;
                }
            }
            return new Response(dag.Name, dag.Cron, DagMapping.IntervalText(dag.IntervalSeconds), dag.Timezone, from, items, fires);
        }
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder dags) => dags
        .MapGet("/{name}/schedule", async Task<Results<Ok<Response>, ProblemHttpResult>> (string name, ISender sender, CancellationToken ct, int? count, DateTimeOffset? from) =>
            await sender.Send(new Query(name, count, from), ct) is { } r ? TypedResults.Ok(r) : Problems.NotFound($"No DAG named '{name}'."))
        .WithName("GetDagSchedule")
        .WithSummary("The next N fire times (UTC instants) from now or from ?from=")
        .ProducesProblem(StatusCodes.Status404NotFound)
        .RequireDagRole(Roles.Viewer);
}
