using Mediator;
using Scheduler.Modules.Dags.Contracts;

namespace Scheduler.Modules.Runs.Events;

/// <summary>
/// The DAGs a team-only caller's event stream shows: its teams' DAGs, read when it connects and
/// again every <see cref="RefreshEvery"/> while it stays, so a DAG that joins one of its teams
/// shows and a DAG moved to another team stops showing within that time (one indexed query per
/// stream and interval).
/// </summary>
internal sealed class VisibleDags(ISender sender, IReadOnlyList<string> teams)
{
    public static readonly TimeSpan RefreshEvery = TimeSpan.FromSeconds(5);

    private volatile HashSet<string> _names = [];
    private long _readAt = long.MinValue;

    /// <summary>Read by the hub's dispatch for every event: a lookup in the set of the last reading.</summary>
    public bool Contains(string dag) => _names.Contains(dag);

    public bool Due => _readAt == long.MinValue || Environment.TickCount64 - _readAt >= (long)RefreshEvery.TotalMilliseconds;

    public async Task RefreshAsync(CancellationToken ct)
    {
        var names = teams.Count == 0 ? [] : await sender.Send(new ListTeamDagNames(teams), ct);
        _names = names.ToHashSet(StringComparer.Ordinal);
        _readAt = Environment.TickCount64;
    }
}
