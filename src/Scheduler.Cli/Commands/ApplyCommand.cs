using System.ComponentModel;
using System.Text.Json.Nodes;
using Scheduler.Client;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Scheduler.Cli.Commands;

/// <summary>
/// Deploys DAG files: each is validated first; one whose hash equals the stored DAG's changes
/// nothing (and is said so), others are created or replaced, with the changed fields shown.
/// Every file is tried; exit 1 when any failed.
/// </summary>
public sealed class ApplyCommand : AsyncCommand<ApplyCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("-f|--file <PATH>")]
        [Description("A DAG file (JSON or YAML) or a folder of them")]
        public string? Path { get; set; }

        [CommandOption("--dry-run")]
        [Description("Show what would change; change nothing")]
        public bool DryRun { get; set; }

        public override ValidationResult Validate() =>
            string.IsNullOrEmpty(Path) ? ValidationResult.Error("-f <file|folder> is required.") : ValidationResult.Success();
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var files = DagFiles.Find(settings.Path!);
        if (files.Count == 0)
            throw new UsageException($"no .json, .yaml or .yml file in {settings.Path}");
        using var client = CliConfig.Connect();
        int created = 0, updated = 0, unchanged = 0, failed = 0;
        foreach (var file in files)
        {
            try
            {
                switch (await ApplyAsync(client, file, settings.DryRun, cancellationToken))
                {
                    case Outcome.Created: created++; break;
                    case Outcome.Updated: updated++; break;
                    default: unchanged++; break;
                }
            }
            catch (Exception e) when (e is Scheduler.Client.Api.SchedulerApiException or FailedException)
            {
                failed++;
                AnsiConsole.MarkupLine($"[red]failed[/] {Markup.Escape(file)}");
                Console.Error.WriteLine($"{file}: {ProblemException.Describe(e)}");
            }
        }
        var summary = created + updated == 0 && failed == 0
            ? "Nothing changed."
            : $"{created} created, {updated} updated, {unchanged} unchanged{(failed > 0 ? $", {failed} failed" : "")}{(settings.DryRun ? " (dry run: nothing saved)" : "")}.";
        Console.Out.WriteLine(summary);
        return failed == 0 ? ExitCodes.Ok : ExitCodes.Failed;
    }

    private enum Outcome { Created, Updated, Unchanged }

    private static async Task<Outcome> ApplyAsync(SchedulerClient client, string file, bool dryRun, CancellationToken cancellationToken)
    {
        var definition = DagFiles.Read(file);
        if (definition["name"] is not JsonValue nameValue || !nameValue.TryGetValue<string>(out var name))
            throw new FailedException("the DAG has no 'name'.");
        var validated = await client.ValidateDagAsync(definition, cancellationToken);
        var existing = await client.FindDagAsync(name, cancellationToken);
        if (existing is { } current && current.Dag.Hash == validated.Hash)
        {
            AnsiConsole.MarkupLine($"[grey]unchanged[/] {Markup.Escape(name)} (version {current.Dag.Version})");
            return Outcome.Unchanged;
        }
        if (existing is null)
        {
            var version = dryRun ? "" : $" (version {(await client.ApplyDagAsync(definition, cancellationToken)).Dag.Version})";
            AnsiConsole.MarkupLine($"[green]created[/] {Markup.Escape(name)}{version}: {validated.Task_count} tasks");
            return Outcome.Created;
        }
        var before = existing.Value;
        var after = dryRun ? before.Dag.Version : (await client.ApplyDagAsync(definition, cancellationToken)).Dag.Version;
        AnsiConsole.MarkupLine($"[yellow]updated[/] {Markup.Escape(name)}{(dryRun ? "" : $" (version {before.Dag.Version} -> {after})")}");
        foreach (var line in JsonDiff.Lines(before.Definition, definition))
            AnsiConsole.MarkupLine($"  {Colour(line)}");
        return Outcome.Updated;
    }

    private static string Colour(string line) => line[0] switch
    {
        '+' => $"[green]{Markup.Escape(line)}[/]",
        '-' => $"[red]{Markup.Escape(line)}[/]",
        _ => $"[yellow]{Markup.Escape(line)}[/]",
    };
}
