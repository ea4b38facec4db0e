using System.ComponentModel;
using Scheduler.Client;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Scheduler.Cli.Commands;

/// <summary>Checks the key against the server, then stores both (the key file 0600).</summary>
public sealed class LoginCommand : AsyncCommand<LoginCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--url <URL>")]
        [Description("The server, e.g. http://localhost:5080")]
        public string? Url { get; set; }

        [CommandOption("--key <KEY>")]
        [Description("An API key")]
        public string? Key { get; set; }

        public override ValidationResult Validate() =>
            !Uri.TryCreate(Url, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https") ? ValidationResult.Error("--url must be an absolute http(s) URL.")
            : string.IsNullOrWhiteSpace(Key) ? ValidationResult.Error("--key is required.")
            : ValidationResult.Success();
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var url = new Uri(settings.Url!);
        using (var client = SchedulerClient.Create(url, settings.Key!.Trim(), new SchedulerClientOptions { MaxRetries = 1 }))
            await client.Api.ListDagsAsync(limit: 1, cancellationToken: cancellationToken);
        CliConfig.Save(url, settings.Key!.Trim());
        AnsiConsole.MarkupLine($"Logged in to [bold]{Markup.Escape(url.AbsoluteUri)}[/] (settings in {Markup.Escape(CliConfig.Folder())}).");
        return ExitCodes.Ok;
    }
}
