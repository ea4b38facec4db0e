// Deploys a DAG written with the fluent builder, triggers it and waits for the run to end.
// Usage: dotnet run --project samples/DeployDag -- <server url> <api key>
// (or SCHEDULER_URL and SCHEDULER_API_KEY). Exit 0 when the run succeeded, 1 otherwise.
using Scheduler.Client;
using Scheduler.Client.Api;
using Scheduler.Client.Builder;

var url = args.ElementAtOrDefault(0) ?? Environment.GetEnvironmentVariable("SCHEDULER_URL");
var key = args.ElementAtOrDefault(1) ?? Environment.GetEnvironmentVariable("SCHEDULER_API_KEY");
if (url is null || key is null)
{
    Console.Error.WriteLine("usage: DeployDag <server url> <api key>");
    return 2;
}

var dag = Dag.Named("sample_deploy")
    .Description("Deployed by samples/DeployDag")
    .Cron("0 9 * * *")
    .Timezone("UTC")
    .Paused()
    .Task("extract", t => t.Shell("echo extracting"))
    .Task("transform", t => t.DependsOn("extract").Shell("echo transforming").Retries(2, TimeSpan.FromSeconds(5)))
    .Task("load", t => t.DependsOn("transform").Shell("echo loading"));

using var client = SchedulerClient.Create(new Uri(url), key);
try
{
    var applied = await client.ApplyDagAsync(dag);
    Console.WriteLine($"{(applied.Created ? "created" : "applied")} {applied.Dag.Name} version {applied.Dag.Version}");
    var run = await client.Api.TriggerDagRunAsync(dag.Name, new TriggerDagRunRequest());
    Console.WriteLine($"triggered run {run.Run_id}");
    while (run.State is not ("success" or "failed" or "cancelled"))
    {
        await Task.Delay(500);
        run = await client.Api.GetRunAsync(run.Run_id);
    }
    Console.WriteLine($"run {run.Run_id} {run.State}");
    return run.State == "success" ? 0 : 1;
}
catch (SchedulerApiException e)
{
    Console.Error.WriteLine(ProblemException.Describe(e));
    return 1;
}
