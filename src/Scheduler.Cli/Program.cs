using Scheduler.Cli;
using Scheduler.Cli.Commands;
using Spectre.Console;
using Spectre.Console.Cli;

// Exit codes: 0 ok, 1 the thing asked failed (a watched run failed, the server refused), 2 bad usage.
var app = new CommandApp();
app.Configure(config =>
{
    config.SetApplicationName("scheduler");
    config.PropagateExceptions();
    config.AddCommand<LoginCommand>("login").WithDescription("Store the server URL and an API key (in $XDG_CONFIG_HOME/scheduler, the key file 0600).");
    config.AddBranch("dags", dags =>
    {
        dags.SetDescription("DAG definitions.");
        dags.AddCommand<ApplyCommand>("apply").WithDescription("Create or update DAGs from a JSON/YAML file or a folder of them; shows what changes.");
        dags.AddCommand<ListDagsCommand>("list").WithDescription("List DAGs.");
        dags.AddCommand<ShowDagCommand>("show").WithDescription("Show one DAG and its tasks.");
    });
    config.AddBranch("runs", runs =>
    {
        runs.SetDescription("DAG runs.");
        runs.AddCommand<TriggerCommand>("trigger").WithDescription("Trigger a run of a DAG.");
        runs.AddCommand<WatchCommand>("watch").WithDescription("Follow a run until it ends; exit 1 when it did not succeed.");
        runs.AddCommand<LogsCommand>("logs").WithDescription("Print a task's log.");
    });
    config.AddCommand<BackfillCommand>("backfill").WithDescription("Create runs for past logical dates (or list them with --dry-run).");
});

try
{
    return await app.RunAsync(args);
}
catch (Exception e) when (e is CommandParseException or CommandRuntimeException or UsageException)
{
    AnsiConsole.Console.Profile.Out.Writer.Flush();
    Console.Error.WriteLine($"error: {e.Message}");
    return ExitCodes.Usage;
}
catch (Exception e) when (e is Scheduler.Client.Api.SchedulerApiException or HttpRequestException or FailedException or TaskCanceledException or IOException or System.Text.Json.JsonException)
{
    Console.Error.WriteLine($"error: {Scheduler.Client.ProblemException.Describe(e)}");
    return ExitCodes.Failed;
}
