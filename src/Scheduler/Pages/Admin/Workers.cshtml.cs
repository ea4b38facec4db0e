using Scheduler.Modules.Runs;
using Scheduler.Modules.Workers;

namespace Scheduler.Pages.Admin;

internal sealed class WorkersModel(TimeProvider clock) : AdminPageModel
{
    public IReadOnlyList<ListWorkers.Item> Workers { get; private set; } = [];
    public IReadOnlyList<PoolResponses.Item> Pools { get; private set; } = [];
    public DateTimeOffset Now { get; } = clock.GetUtcNow();

    public async Task OnGetAsync()
    {
        Workers = await Sender.Send(new ListWorkers.Query(), HttpContext.RequestAborted);
        Pools = await Sender.Send(new ListPools.Query(), HttpContext.RequestAborted);
    }
}
