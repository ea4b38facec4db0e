using Scheduler.Modules.Runs;
using Scheduler.Modules.Runs.Figures;
using Scheduler.Modules.Workers;

namespace Scheduler.Pages.Admin;

internal sealed class DashboardModel(TimeProvider clock) : AdminPageModel
{
    public RunOverview.Result Overview { get; private set; } = null!;
    public IReadOnlyList<ListWorkers.Item> Workers { get; private set; } = [];
    public IReadOnlyList<PoolResponses.Item> Pools { get; private set; } = [];
    public LastHourFigures.Result LastHour { get; private set; } = new([], []);
    public DateTimeOffset Now { get; } = clock.GetUtcNow();

    public async Task OnGetAsync()
    {
        var ct = HttpContext.RequestAborted;
        Overview = await Sender.Send(new RunOverview.Query(DagNames: await VisibleDagNamesAsync()), ct);
        // Workers, pools and the minute figures belong to no team: a user with team roles only does not see them.
        if (!IsGlobal)
            return;
        Workers = await Sender.Send(new ListWorkers.Query(), ct);
        Pools = await Sender.Send(new ListPools.Query(), ct);
        LastHour = await Sender.Send(new LastHourFigures.Query(), ct);
    }
}
