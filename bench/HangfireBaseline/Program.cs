using System.Diagnostics;
using System.Globalization;
using Hangfire;
using Hangfire.PostgreSql;

// Usage: HangfireBaseline <connection string> <jobs> [workers]
// Enqueues the jobs first (timed), then starts a server with the given workers and times
// until every job succeeded: the way performance.md P4 measured Hangfire.PostgreSql.
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: HangfireBaseline <connection string> <jobs> [workers]");
    return 2;
}
var connectionString = args[0];
var jobs = int.Parse(args[1], CultureInfo.InvariantCulture);
var workers = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 20;

GlobalConfiguration.Configuration
    .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
    .UseSimpleAssemblyNameTypeSerializer()
    .UseRecommendedSerializerSettings()
    .UsePostgreSqlStorage(o => o.UseNpgsqlConnection(connectionString), new PostgreSqlStorageOptions { SchemaName = "hangfire_baseline", PrepareSchemaIfNecessary = true });

var client = new BackgroundJobClient();
var enqueue = Stopwatch.StartNew();
for (var i = 0; i < jobs; i++)
    client.Enqueue(() => Work.Nothing());
enqueue.Stop();

var monitoring = JobStorage.Current.GetMonitoringApi();
var before = monitoring.SucceededListCount();
var process = Stopwatch.StartNew();
using (new BackgroundJobServer(new BackgroundJobServerOptions { WorkerCount = workers }))
{
    while (monitoring.SucceededListCount() - before < jobs)
    {
        if (process.Elapsed > TimeSpan.FromMinutes(30))
        {
            Console.Error.WriteLine("HangfireBaseline: gave up after 30 minutes");
            return 1;
        }
        Thread.Sleep(100);
    }
    process.Stop();
}
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"P4 Hangfire.PostgreSql baseline, {jobs} jobs, {workers} workers: {jobs / enqueue.Elapsed.TotalSeconds:0} enqueues/s, {jobs / process.Elapsed.TotalSeconds:0} jobs/s processed"));
return 0;

/// <summary>The trivial job.</summary>
public static class Work
{
    public static void Nothing()
    {
    }
}
