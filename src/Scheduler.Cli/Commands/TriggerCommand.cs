using System.ComponentModel;
using System.Text.Json;
using Scheduler.Client.Api;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Scheduler.Cli.Commands;

public sealed class TriggerCommand : AsyncCommand<TriggerCommand.Settings>
{
    public sealed class Settings : ReadSettings
    {
        [CommandArgument(0, "<dag>")]
        public string Dag { get; set; } = "";

        [CommandOption("--conf <JSON>")]
        [Description("The run's conf: a JSON object")]
        public string? Conf { get; set; }

        [CommandOption("--logical-date <INSTANT>")]
        public DateTimeOffset? LogicalDate { get; set; }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var request = new TriggerDagRunRequest { Logical_date = settings.LogicalDate };
        if (settings.Conf is not null)
        {
            try
            {
                request.Conf = System.Text.Json.Nodes.JsonNode.Parse(settings.Conf) as System.Text.Json.Nodes.JsonObject
                    ?? throw new UsageException("--conf must be a JSON object.");
            }
            catch (JsonException e)
            {
                throw new UsageException($"--conf is not JSON: {e.Message}");
            }
        }
        using var client = CliConfig.Connect();
        var run = await client.Api.TriggerDagRunAsync(settings.Dag, request, cancellationToken);
        if (settings.Json)
            Output.Json(run);
        else
            AnsiConsole.MarkupLine($"Triggered run [bold]{run.Run_id}[/] of {Markup.Escape(run.Dag_name)} (logical date {Output.When(run.Logical_date)}): {Output.State(run.State)}");
        return ExitCodes.Ok;
    }
}
