using Mediator;
using Microsoft.EntityFrameworkCore;
using Scheduler.Modules.Dags.Contracts;

namespace Scheduler.Modules.Dags;

/// <summary>The team lookups behind <see cref="DagGate"/> and the other modules' list filters.</summary>
internal sealed class DagTeamQueries(DagsDbContext db) : IQueryHandler<GetDagTeams, IReadOnlyDictionary<string, string?>>, IQueryHandler<ListTeamDagNames, IReadOnlyList<string>>
{
    public async ValueTask<IReadOnlyDictionary<string, string?>> Handle(GetDagTeams query, CancellationToken cancellationToken)
    {
        var names = query.Names.ToList();
        return await db.Dags.AsNoTracking().Where(d => names.Contains(d.Name)).ToDictionaryAsync(d => d.Name, d => d.Team, cancellationToken);
    }

    public async ValueTask<IReadOnlyList<string>> Handle(ListTeamDagNames query, CancellationToken cancellationToken)
    {
        var teams = query.VisibleTeams.ToList();
        return await db.Dags.AsNoTracking().Where(d => d.Team != null && teams.Contains(d.Team)).Select(d => d.Name).ToListAsync(cancellationToken);
    }
}
