using System.ComponentModel;
using System.Text.Json.Nodes;
using Scheduler.Client.Api;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Scheduler.Cli.Commands;

/// <summary>POST /dags/{name}/backfills: runs for the logical dates between --from and --to (or, with --dry-run, the list of them).</summary>
public sealed class BackfillCommand : AsyncCommand<BackfillCommand.Settings>
{
    public sealed class Settings : ReadSettings
    {
        [CommandArgument(0, "<dag>")]
        public string Dag { get; set; } = "";

        [CommandOption("--from <INSTANT>")]
        public DateTimeOffset? From { get; set; }

        [CommandOption("--to <INSTANT>")]
        public DateTimeOffset? To { get; set; }

        [CommandOption("--reprocess <WHICH>")]
        [Description("missing (default), failed or all")]
        [DefaultValue("missing")]
        public string Reprocess { get; set; } = "missing";

        [CommandOption("--max-active-runs <N>")]
        public int? MaxActiveRuns { get; set; }

        [CommandOption("--dry-run")]
        [Description("List the logical dates; create nothing")]
        public bool DryRun { get; set; }

        public override ValidationResult Validate() =>
            From is null || To is null ? ValidationResult.Error("--from and --to are required.")
            : From > To ? ValidationResult.Error("--from is after --to.")
            : Reprocess is not ("missing" or "failed" or "all") ? ValidationResult.Error("--reprocess is missing, failed or all.")
            : base.Validate();
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var client = CliConfig.Connect();
        var body = new JsonObject
        {
            ["from"] = settings.From!.Value.ToUniversalTime().ToString("O"),
            ["to"] = settings.To!.Value.ToUniversalTime().ToString("O"),
            ["reprocess"] = settings.Reprocess,
            ["dry_run"] = settings.DryRun,
        };
        if (settings.MaxActiveRuns is { } max)
            body["max_active_runs"] = max;
        JsonNode? answer;
        try
        {
            answer = await client.SendAsync(HttpMethod.Post, $"api/v1/dags/{Uri.EscapeDataString(settings.Dag)}/backfills", body, cancellationToken);
        }
        catch (SchedulerApiException e) when (e.StatusCode == 404)
        {
            // A 404 for a DAG that exists means the server has no backfill endpoint.
            if (await client.FindDagAsync(settings.Dag, cancellationToken) is null)
                throw;
            throw new FailedException($"this server does not support backfills (POST /api/v1/dags/{settings.Dag}/backfills answered 404); upgrade the server.");
        }
        if (settings.Json)
        {
            Console.Out.WriteLine(answer?.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
            return ExitCodes.Ok;
        }
        if (settings.DryRun)
        {
            var dates = answer?["logical_dates"]?.AsArray() ?? [];
            Console.Out.WriteLine($"{answer?["count"] ?? dates.Count} runs would be created for {settings.Dag}:");
            foreach (var date in dates)
                Console.Out.WriteLine($"  {date}");
            return ExitCodes.Ok;
        }
        AnsiConsole.MarkupLine($"Backfill [bold]{Markup.Escape(answer?["id"]?.ToJsonString() ?? "?")}[/] of {Markup.Escape(settings.Dag)}: {Markup.Escape(answer?["state"]?.ToString() ?? "")}, {Markup.Escape(answer?["total"]?.ToJsonString() ?? "?")} runs");
        return ExitCodes.Ok;
    }
}
