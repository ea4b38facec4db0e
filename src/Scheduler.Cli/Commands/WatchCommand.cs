using System.ComponentModel;
using Scheduler.Client.Api;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Scheduler.Cli.Commands;

/// <summary>Follows a run until it ends: a live table in a terminal, one line per change otherwise (CI logs). Exit 1 unless it succeeded.</summary>
public sealed class WatchCommand : AsyncCommand<WatchCommand.Settings>
{
    public static readonly string[] FinalStates = ["success", "failed", "cancelled"];

    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<run_id>")]
        public long RunId { get; set; }

        [CommandOption("--interval <SECONDS>")]
        [Description("How often to look (default 1)")]
        [DefaultValue(1.0)]
        public double Interval { get; set; } = 1.0;
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var client = CliConfig.Connect();
        var delay = TimeSpan.FromSeconds(Math.Clamp(settings.Interval, 0.1, 60));
        RunDetails run;
        if (Console.IsOutputRedirected)
        {
            var seen = new Dictionary<string, string>();
            while (true)
            {
                run = await client.Api.GetRunAsync(settings.RunId, cancellationToken);
                foreach (var line in Changes(run, seen))
                    Console.Out.WriteLine(line);
                if (FinalStates.Contains(run.State))
                    break;
                await Task.Delay(delay, cancellationToken);
            }
        }
        else
        {
            run = await client.Api.GetRunAsync(settings.RunId, cancellationToken);
            await AnsiConsole.Live(Render(run)).StartAsync(async live =>
            {
                while (!FinalStates.Contains(run.State))
                {
                    await Task.Delay(delay, cancellationToken);
                    run = await client.Api.GetRunAsync(settings.RunId, cancellationToken);
                    live.UpdateTarget(Render(run));
                }
            });
        }
        Console.Out.WriteLine($"run {run.Run_id} {run.State}");
        return run.State == "success" ? ExitCodes.Ok : ExitCodes.Failed;
    }

    /// <summary>"run 7 running", "fetch success (attempt 1)": what changed since the last look.</summary>
    private static IEnumerable<string> Changes(RunDetails run, Dictionary<string, string> seen)
    {
        if (!seen.TryGetValue("", out var runState) || runState != run.State)
        {
            seen[""] = run.State;
            if (!FinalStates.Contains(run.State))
                yield return $"run {run.Run_id} {run.State}";
        }
        foreach (var task in run.Tasks)
        {
            var key = "task:" + task.Task_id;
            if (seen.TryGetValue(key, out var state) && state == task.State)
                continue;
            seen[key] = task.State;
            yield return $"{task.Task_id} {task.State} (attempt {task.Attempt})";
        }
    }

    private static Table Render(RunDetails run)
    {
        var done = run.Tasks.Count(t => t.State is "success" or "failed" or "skipped" or "upstream_failed" or "cancelled");
        var table = new Table().Title($"run {run.Run_id} of {Markup.Escape(run.Dag_name)}: {Output.State(run.State)} ({done}/{run.Tasks.Count} tasks done)")
            .AddColumns("task", "state", "attempt", "started", "finished");
        foreach (var task in run.Tasks)
            table.AddRow(Markup.Escape(task.Task_id), Output.State(task.State), $"{task.Attempt}/{task.Max_attempts}", Output.When(task.Started_at), Output.When(task.Finished_at));
        return table;
    }
}
