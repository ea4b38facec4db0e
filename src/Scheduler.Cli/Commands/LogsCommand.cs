using System.ComponentModel;
using Scheduler.Client.Api;
using Spectre.Console.Cli;

namespace Scheduler.Cli.Commands;

/// <summary>Prints a task's log; with --follow, keeps printing what it adds until the task ends.</summary>
public sealed class LogsCommand : AsyncCommand<LogsCommand.Settings>
{
    private static readonly string[] Finished = ["success", "failed", "skipped", "upstream_failed", "cancelled"];

    public sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<run_id>")]
        public long RunId { get; set; }

        [CommandArgument(1, "<task>")]
        public string Task { get; set; } = "";

        [CommandOption("--attempt <N>")]
        [Description("An attempt (default the latest)")]
        public int? Attempt { get; set; }

        [CommandOption("--map-index <N>")]
        [Description("One instance of a mapped task")]
        public int? MapIndex { get; set; }

        [CommandOption("-f|--follow")]
        [Description("Keep printing until the task ends")]
        public bool Follow { get; set; }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var client = CliConfig.Connect();
        var printed = 0;
        while (true)
        {
            string log;
            try
            {
                log = await client.Api.GetTaskLogAsync(settings.RunId, settings.Task, settings.Attempt, settings.MapIndex, cancellationToken);
            }
            catch (SchedulerApiException e) when (e.StatusCode == 404 && settings.Follow)
            {
                log = ""; // not started yet: no attempt, no log
            }
            if (log.Length < printed)
                printed = 0; // a new attempt started: its log from the beginning
            Console.Out.Write(log[printed..]);
            printed = log.Length;
            if (!settings.Follow)
                return ExitCodes.Ok;
            var run = await client.Api.GetRunAsync(settings.RunId, cancellationToken);
            var task = run.Tasks.FirstOrDefault(t => t.Task_id == settings.Task) ?? throw new FailedException($"run {settings.RunId} has no task '{settings.Task}'.");
            if (Finished.Contains(task.State))
            {
                var last = await client.Api.GetTaskLogAsync(settings.RunId, settings.Task, settings.Attempt, settings.MapIndex, cancellationToken);
                if (last.Length > printed)
                    Console.Out.Write(last[printed..]);
                return task.State == "success" ? ExitCodes.Ok : ExitCodes.Failed;
            }
            await System.Threading.Tasks.Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        }
    }
}
