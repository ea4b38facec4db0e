using Microsoft.AspNetCore.Mvc;
using Scheduler.Modules.Runs;
using Scheduler.Modules.Runs.Engine;

namespace Scheduler.Pages.Admin.Runs;

/// <summary>
/// A run: its tasks (paged) with states, attempts and durations, a Gantt chart, the
/// operator actions (cancel, clear, mark), and a log viewer that follows a running task.
/// </summary>
internal sealed class RunDetailModel(TimeProvider clock) : AdminPageModel
{
    public const int TaskPage = 200;

    [BindProperty(SupportsGet = true)] public long Id { get; set; }
    [BindProperty(SupportsGet = true)] public int Tp { get; set; }
    [BindProperty(SupportsGet = true)] public string? Task { get; set; }
    [BindProperty(SupportsGet = true)] public int? Attempt { get; set; }

    public RunDetails Run { get; private set; } = null!;
    public IReadOnlyList<TaskInstanceDetails> PageTasks { get; private set; } = [];
    public int Pages { get; private set; }
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
        Pages = Math.Max(1, (run.Tasks.Count + TaskPage - 1) / TaskPage);
        Tp = Math.Clamp(Tp, 0, Pages - 1);
        PageTasks = run.Tasks.Skip(Tp * TaskPage).Take(TaskPage).ToList();
        if (Task is not null && run.Tasks.FirstOrDefault(t => t.TaskId == Task) is { } task)
        {
            LogTask = task;
            LogAttempt = Attempt ?? task.Attempt;
            LogText = await Sender.Send(new GetTaskLog.Query(Id, task.TaskId, LogAttempt), ct) ?? "(no log)";
            OutputText = (await Sender.Send(new GetTaskOutput.Query(Id, task.TaskId), ct))?.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true });
        }
        return Page();
    }

    /// <summary>The log text alone, for the follower script; X-Task-State tells it when to stop.</summary>
    public async Task<IActionResult> OnGetLogAsync()
    {
        var ct = HttpContext.RequestAborted;
        if (Task is null || await Sender.Send(new GetRun.Query(Id), ct) is not { } run || run.Tasks.FirstOrDefault(t => t.TaskId == Task) is not { } task)
            return NotFound();
        Response.Headers["X-Task-State"] = task.State;
        var log = await Sender.Send(new GetTaskLog.Query(Id, Task, Attempt ?? task.Attempt), ct);
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

    public async Task<IActionResult> OnPostClearAsync(string task, bool downstream)
    {
        await UseRunTeamAsync();
        if (!CanOperate)
            return Forbid();
        var result = await Sender.Send(new ClearTask.Command(Id, task, downstream), HttpContext.RequestAborted);
        if (result is null || !result.Found)
            return NotFound();
        if (result.Cleared is null)
            FlashError = "A task to clear is running; cancel it or wait for it to finish.";
        else
            Flash = $"Cleared {task}{(downstream ? " and its downstream" : "")}.";
        return Redirect($"/admin/runs/{Id}");
    }

    public async Task<IActionResult> OnPostMarkAsync(string task, string state)
    {
        await UseRunTeamAsync();
        if (!CanOperate)
            return Forbid();
        MarkResult? result = null;
        if (!await TrySendAsync(async () => result = await Sender.Send(new MarkTask.Command(Id, task, state), HttpContext.RequestAborted)))
            FlashError = ErrorText();
        else if (result is null || !result.Found)
            return NotFound();
        else
            Flash = $"Marked {task} {state}.";
        return Redirect($"/admin/runs/{Id}");
    }
}
