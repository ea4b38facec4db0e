using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Scheduler.Cli.Commands;

public sealed class ShowDagCommand : AsyncCommand<ShowDagCommand.Settings>
{
    public sealed class Settings : ReadSettings
    {
        [CommandArgument(0, "<dag>")]
        [Description("The DAG's name")]
        public string Dag { get; set; } = "";
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var client = CliConfig.Connect();
        var dag = await client.Api.GetDagAsync(settings.Dag, cancellationToken);
        if (settings.Json)
        {
            Output.Json(dag);
            return ExitCodes.Ok;
        }
        var grid = new Grid().AddColumns(2);
        grid.AddRow("[bold]name[/]", Markup.Escape(dag.Name));
        grid.AddRow("description", Markup.Escape(dag.Description ?? "-"));
        grid.AddRow("schedule", Markup.Escape($"{dag.Cron ?? dag.Interval ?? "none"} ({dag.Timezone ?? "UTC"})"));
        grid.AddRow("paused", dag.Paused ? "yes" : "no");
        grid.AddRow("version", $"{dag.Version} ({Markup.Escape(dag.Hash ?? "")})");
        grid.AddRow("last run", Output.State(dag.Last_run_state));
        grid.AddRow("next run", Output.When(dag.Next_run_at));
        AnsiConsole.Write(grid);
        var tasks = new Table().AddColumns("task", "type", "depends on");
        foreach (var task in dag.Definition?.Tasks ?? [])
            tasks.AddRow(Markup.Escape(task.Id ?? ""), Markup.Escape(task.Type ?? "noop"), Markup.Escape(string.Join(", ", task.Depends_on ?? [])));
        Output.Write(tasks);
        return ExitCodes.Ok;
    }
}
