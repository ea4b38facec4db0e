using Microsoft.AspNetCore.Mvc;
using Scheduler.Modules.Runs;
using Scheduler.Modules.Runs.Engine;

namespace Scheduler.Pages.Admin.Runs;

/// <summary>
/// A run: its tasks (paged) with states, attempts and durations, a Gantt chart, the
/// operator actions (cancel, clear, mark), and a log viewer that follows a running task.
/// A mapped task is ONE row with a summary of its instances by state; its instances are a
/// paged view of their own (<c>?mapped=task</c>), so a 1,000-way map stays readable.
/// </summary>
internal sealed class RunDetailModel(TimeProvider clock) : AdminPageModel
{
    public const int TaskPage = 200;
    public const int InstancePage = 100;

    [BindProperty(SupportsGet = true)] public long Id { get; set; }
    [BindProperty(SupportsGet = true)] public int Tp { get; set; }
    [BindProperty(SupportsGet = true)] public string? Task { get; set; }
    [BindProperty(SupportsGet = true)] public int? Attempt { get; set; }
    /// <summary>The map index of the instance whose log is shown.</summary>
    [BindProperty(SupportsGet = true)] public int? Mi { get; set; }
    /// <summary>The mapped task whose instances are listed, and the page of them.</summary>
    [BindProperty(SupportsGet = true)] public string? Mapped { get; set; }
    [BindProperty(SupportsGet = true)] public int Ip { get; set; }

    public RunDetails Run { get; private set; } = null!;
    public IReadOnlyList<TaskInstanceDetails> PageTasks { get; private set; } = [];
    public int Pages { get; private set; }
    public IReadOnlyList<TaskInstanceDetails> PageInstances { get; private set; } = [];
    public int InstancePages { get; private set; }
    public TaskInstanceDetails? LogTask { get; private set; }
    public int LogAttempt { get; private set; }
    public string? LogText { get; private set; }
    /// <summary>The shown task's output (indented JSON), or null when it produced none.</summary>
    public string? OutputText { get; private set; }
    public DateTimeOffset Now { get; } = clock.GetUtcNow();

    public async Task<IActionResult> OnGetAsync()
    {
        var ct = HttpContext.RequestAborted;
        if (await Sender.Send(new GetRun.Query(Id), ct) is not { } run)
            return NotFound();
        Run = run;
        await UseDagTeamAsync(run.DagName);
        if (Hidden(ObjectTeam))
            return NotFound();
        var own = run.Tasks.Where(t => t.MapIndex is null).ToList();
        Pages = Math.Max(1, (own.Count + TaskPage - 1) / TaskPage);
        Tp = Math.Clamp(Tp, 0, Pages - 1);
        PageTasks = own.Skip(Tp * TaskPage).Take(TaskPage).ToList();
        if (Mapped is not null)
        {
            var instances = run.Tasks.Where(t => t.TaskId == Mapped && t.MapIndex is not null).ToList();
            InstancePages = Math.Max(1, (instances.Count + InstancePage - 1) / InstancePage);
            Ip = Math.Clamp(Ip, 0, InstancePages - 1);
            PageInstances = instances.Skip(Ip * InstancePage).Take(InstancePage).ToList();
        }
        if (Task is not null && Row(run, Task, Mi) is { } task)
        {
            LogTask = task;
            LogAttempt = Attempt ?? task.Attempt;
            LogText = await Sender.Send(new GetTaskLog.Query(Id, task.TaskId, LogAttempt, Mi), ct) ?? "(no log)";
            OutputText = (await Sender.Send(new GetTaskOutput.Query(Id, task.TaskId, Mi), ct))?.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true });
        }
        return Page();
    }

    /// <summary>A task's own row, or with <paramref name="mapIndex"/> one of its instances.</summary>
    private static TaskInstanceDetails? Row(RunDetails run, string taskId, int? mapIndex) =>
        run.Tasks.FirstOrDefault(t => t.TaskId == taskId && t.MapIndex == mapIndex);

    /// <summary>The query string that shows this row's log (with its map index for an instance).</summary>
    public static string LogQuery(TaskInstanceDetails t) =>
        $"task={Uri.EscapeDataString(t.TaskId)}{(t.MapIndex is { } i ? $"&mi={i}" : "")}";

    /// <summary>The log text alone, for the follower script; X-Task-State tells it when to stop.</summary>
    public async Task<IActionResult> OnGetLogAsync()
    {
        var ct = HttpContext.RequestAborted;
        if (Task is null || await Sender.Send(new GetRun.Query(Id), ct) is not { } run || Row(run, Task, Mi) is not { } task)
            return NotFound();
        await UseDagTeamAsync(run.DagName);
        if (Hidden(ObjectTeam))
            return NotFound();
        Response.Headers["X-Task-State"] = task.State;
        var log = await Sender.Send(new GetTaskLog.Query(Id, Task, Attempt ?? task.Attempt, Mi), ct);
        return Content(log ?? "", "text/plain; charset=utf-8");
    }

    private async Task UseRunTeamAsync()
    {
        if (await Sender.Send(new GetRun.Query(Id), HttpContext.RequestAborted) is { } run)
            await UseDagTeamAsync(run.DagName);
    }

    public async Task<IActionResult> OnPostCancelAsync()
    {
        await UseRunTeamAsync();
        if (!CanOperate)
            return Forbid();
        var result = await Sender.Send(new CancelRun.Command(Id), HttpContext.RequestAborted);
        if (result is null)
            return NotFound();
        if (result.Cancelled)
            Flash = $"Cancelled run {Id}.";
        else
            FlashError = $"Run {Id} already ended ({result.State}).";
        return Redirect($"/admin/runs/{Id}");
    }

    public async Task<IActionResult> OnPostClearAsync(string task, bool downstream, [FromForm(Name = "map_index")] int? mapIndex)
    {
        await UseRunTeamAsync();
        if (!CanOperate)
            return Forbid();
        ClearResult? result = null;
        if (!await TrySendAsync(async () => result = await Sender.Send(new ClearTask.Command(Id, task, downstream, mapIndex), HttpContext.RequestAborted)))
        {
            FlashError = ErrorText();
            return Redirect($"/admin/runs/{Id}");
        }
        if (result is null || !result.Found)
            return NotFound();
        if (result.Cleared is null)
            FlashError = "A task to clear is running; cancel it or wait for it to finish.";
        else
            Flash = $"Cleared {task}{(mapIndex is null ? "" : $" [{mapIndex}]")}{(downstream ? " and its downstream" : "")}.";
        return Redirect($"/admin/runs/{Id}");
    }

    public async Task<IActionResult> OnPostMarkAsync(string task, string state, [FromForm(Name = "map_index")] int? mapIndex)
    {
        await UseRunTeamAsync();
        if (!CanOperate)
            return Forbid();
        MarkResult? result = null;
        if (!await TrySendAsync(async () => result = await Sender.Send(new MarkTask.Command(Id, task, state, mapIndex), HttpContext.RequestAborted)))
            FlashError = ErrorText();
        else if (result is null || !result.Found)
            return NotFound();
        else
            Flash = $"Marked {task}{(mapIndex is null ? "" : $" [{mapIndex}]")} {state}.";
        return Redirect($"/admin/runs/{Id}");
    }
}
