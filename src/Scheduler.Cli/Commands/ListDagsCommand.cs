using Scheduler.Client.Api;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Scheduler.Cli.Commands;

public sealed class ListDagsCommand : AsyncCommand<ReadSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ReadSettings settings, CancellationToken cancellationToken)
    {
        using var client = CliConfig.Connect();
        var dags = new List<DagSummary>();
        string? cursor = null;
        do
        {
            var page = await client.Api.ListDagsAsync(limit: 200, cursor: cursor, cancellationToken: cancellationToken);
            dags.AddRange(page.Items);
            cursor = page.Next_cursor;
        } while (cursor is not null);

        if (settings.Json)
        {
            Output.Json(dags);
            return ExitCodes.Ok;
        }
        var table = new Table().AddColumns("name", "schedule", "paused", "version", "tasks", "last run", "next run");
        foreach (var dag in dags)
            table.AddRow(Markup.Escape(dag.Name), Markup.Escape(dag.Cron ?? dag.Interval ?? "-"), dag.Paused ? "yes" : "no", dag.Version.ToString(),
                dag.Task_count.ToString(), Output.State(dag.Last_run_state), Output.When(dag.Next_run_at));
        Output.Write(table);
        return ExitCodes.Ok;
    }
}
