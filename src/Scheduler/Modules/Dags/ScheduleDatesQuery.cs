using Mediator;
using Microsoft.EntityFrameworkCore;
using Scheduler.Modules.Dags.Calendars;
using Scheduler.Modules.Dags.Contracts;
using Scheduler.Modules.Dags.Definitions;
using Scheduler.Modules.Dags.Scheduling;

namespace Scheduler.Modules.Dags;

/// <summary>Backfill's dates, from the same fire-time function as the scheduler (<see cref="FireTimes.Between"/>).</summary>
internal sealed class ScheduleDatesQuery(DagsDbContext db, CalendarCache calendars) : IQueryHandler<GetScheduleDates, ScheduleDates?>
{
    public async ValueTask<ScheduleDates?> Handle(GetScheduleDates query, CancellationToken cancellationToken)
    {
        var dag = await db.Dags.AsNoTracking().Where(d => d.Name == query.DagName)
            .Select(d => new { d.Id, d.Definition }).SingleOrDefaultAsync(cancellationToken);
        if (dag is null)
            return null;
        var definition = CanonicalJson.Deserialize(dag.Definition);
        if (PreparedDefinition.From(definition).Rules is not { } rules)
            return new ScheduleDates(dag.Id, false, []);
        rules = ScheduleRules.WithCalendars(rules, definition, await calendars.GetAsync(cancellationToken));
        return new ScheduleDates(dag.Id, true, FireTimes.Between(rules, query.From, query.To, query.Max));
    }
}
