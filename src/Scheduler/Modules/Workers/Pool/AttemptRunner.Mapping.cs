using Mediator;
using Scheduler.Abstractions;
using Scheduler.Infrastructure.Templates;
using Scheduler.Modules.Dags.Contracts;
using Scheduler.Modules.Runs.Contracts;
using Scheduler.Modules.Workers.Templates;

namespace Scheduler.Modules.Workers.Pool;

internal sealed partial class AttemptRunner
{
    /// <summary>
    /// A mapped task's own attempt: renders map_over, and its output is the array of items
    /// (the engine inserts one instance per element when it records this success). An empty
    /// array skips the task; anything that is not an array, or too long, fails it saying so.
    /// </summary>
    private async Task<Result> ExpandAsync(ClaimedTask task, DagPlan dag, TaskPlan plan, string mapOver, ISender sender, AttemptLog log, CancellationToken ct)
    {
        string rendered;
        try
        {
            (rendered, log.Secrets) = await templating.RenderMapOverAsync(task, dag, mapOver, sender, ct);
        }
        catch (TemplateException e)
        {
            return new Result(AttemptOutcome.Failed, null, e.Message);
        }
        var expansion = MapOver.Parse(rendered, plan.MaxMapLength);
        if (expansion.Items is not { } items)
            return new Result(AttemptOutcome.Failed, null, expansion.Error);
        var (output, outputError) = TaskTemplating.StoredOutput(items, log.Secrets);
        if (outputError is not null)
            return new Result(AttemptOutcome.Failed, null, $"map_over: {outputError}");
        if (items.Count == 0)
        {
            log.WriteLine("--- map_over rendered an empty array: nothing to run, the task is skipped ---");
            return new Result(AttemptOutcome.Skipped, null, null, output);
        }
        log.WriteLine($"--- map_over rendered {items.Count} item(s): instances 0..{items.Count - 1} ---");
        return new Result(AttemptOutcome.Success, null, null, output);
    }
}
