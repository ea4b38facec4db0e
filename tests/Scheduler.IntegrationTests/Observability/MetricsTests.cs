using System.Diagnostics;
using System.Net;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Observability;

/// <summary>
/// GET /metrics of the real server: the contract's series with their labels, counters that
/// move with what the engine does, the cluster gauges, and what a scrape costs the database.
/// The server's counters are the process's: each test compares before and after (tests of
/// the collection run one at a time).
/// </summary>
public sealed class MetricsTests(ServerFixture server) : ServerTest(server)
{
    private static readonly (string Key, string Value) Manual = ("run_type", "manual");

    private Task<MetricsScrape> ScrapeAsync() => MetricsScrape.GetAsync(Anonymous);

    [Fact]
    public async Task Metrics_AreAnonymous_AndShowTheContractSeries_WithRuntimeAndDependencies()
    {
        await Admin.PostJsonAsync("dags", """{"name":"metrics_names","tasks":[{"id":"a"},{"id":"b","type":"shell","command":"exit 1","depends_on":["a"]}]}""").ExpectAsync(HttpStatusCode.Created);
        await Admin.WaitForRunAsync(await Admin.TriggerAsync("metrics_names"));
        await Admin.PostJsonAsync("dags", """{"name":"metrics_cron","cron":"* * * * * *","tasks":[{"id":"a"}]}""").ExpectAsync(HttpStatusCode.Created);
        // Catch-up scans of other tests' DAGs can make the lag series first: wait for a scheduled run too.
        var scrape = await WaitForAsync(s => s.Has("scheduler_schedule_lag_seconds_count") && s.Sum("scheduler_runs_created_total", ("run_type", "scheduled")) >= 1);
        await Admin.PostJsonAsync("dags/metrics_cron/pause", "{}").ExpectAsync(HttpStatusCode.OK);

        foreach (var state in new[] { "queued", "running", "up_for_retry" })
            Assert.Single(scrape.Series("scheduler_task_instances", ("state", state), ("pool", "default")));
        Assert.True(scrape.Sum("scheduler_tasks_finished_total", ("state", "success")) >= 1);
        Assert.True(scrape.Sum("scheduler_tasks_finished_total", ("state", "failed")) >= 1);
        Assert.True(scrape.Sum("scheduler_runs_finished_total", ("state", "failed")) >= 1);
        Assert.True(scrape.Sum("scheduler_runs_created_total", Manual) >= 1);
        Assert.True(scrape.Sum("scheduler_runs_created_total", ("run_type", "scheduled")) >= 1);
        foreach (var histogram in new[] { "scheduler_task_duration_seconds", "scheduler_task_start_delay_seconds", "scheduler_schedule_lag_seconds" })
        {
            Assert.True(scrape.Sum(histogram + "_count") >= 1, histogram);
            Assert.Single(scrape.Series(histogram + "_bucket", ("le", "+Inf")));
        }
        Assert.True(scrape.Sum("scheduler_workers_alive") >= 1);
        Assert.Equal(8, scrape.Sum("scheduler_worker_slots", ("state", "used")) + scrape.Sum("scheduler_worker_slots", ("state", "free")));
        Assert.Equal(1, scrape.Sum("scheduler_leader"));
        // Counters start at zero for every known label set, so a first increment shows in rate().
        Assert.Single(scrape.Series("scheduler_notification_deliveries_total", ("channel_type", "webhook"), ("state", "failed")));
        Assert.Single(scrape.Series("scheduler_tasks_finished_total", ("state", "upstream_failed")));
        // No per-DAG label unless Metrics:PerDagLabels (unbounded cardinality).
        Assert.DoesNotContain(scrape.Samples, s => s.Labels.ContainsKey("dag"));
        // ASP.NET Core, Npgsql, .NET runtime and process metrics beside the scheduler's own.
        foreach (var name in new[] { "http_server_request_duration_seconds_count", "db_client_operation_duration_seconds_count", "dotnet_gc_collections_total", "process_cpu_time_seconds_total" })
            Assert.True(scrape.Has(name), name);
        // An API key is not needed, and a wrong one changes nothing.
        using var wrongKey = new HttpClient { BaseAddress = Server.BaseAddress };
        wrongKey.DefaultRequestHeaders.Add("X-Api-Key", "sk_not_a_real_key_at_all_000000000");
        await MetricsScrape.GetAsync(wrongKey);
    }

    [Fact]
    public async Task Counters_AndHistograms_MoveWithWhatTheEngineDid()
    {
        // a -> b succeed; c fails, is retried once and fails again; d, downstream of c, is upstream_failed.
        await Admin.PostJsonAsync("dags", """
            {"name":"metrics_moves","tasks":[
              {"id":"a"},{"id":"b","depends_on":["a"]},
              {"id":"c","type":"shell","command":"exit 3","retries":1,"retry_delay":0.2},
              {"id":"d","depends_on":["c"]}]}
            """).ExpectAsync(HttpStatusCode.Created);
        var before = await ScrapeAsync();
        var run = await Admin.WaitForRunAsync(await Admin.TriggerAsync("metrics_moves"));
        Assert.Equal("failed", run.GetProperty("state").GetString());
        var after = await ScrapeAsync();

        double Delta(string name, params (string, string)[] labels) => after.Sum(name, labels) - before.Sum(name, labels);
        Assert.Equal(2, Delta("scheduler_tasks_finished_total", ("state", "success")));
        Assert.Equal(1, Delta("scheduler_tasks_finished_total", ("state", "up_for_retry")));
        Assert.Equal(1, Delta("scheduler_tasks_finished_total", ("state", "failed")));
        Assert.Equal(1, Delta("scheduler_tasks_finished_total", ("state", "upstream_failed")));
        Assert.Equal(1, Delta("scheduler_runs_finished_total", ("state", "failed")));
        Assert.Equal(0, Delta("scheduler_runs_finished_total", ("state", "success")));
        Assert.Equal(1, Delta("scheduler_runs_created_total", Manual));
        // Four attempts ran (a, b and c twice): each has a duration and a start delay.
        Assert.Equal(4, Delta("scheduler_task_duration_seconds_count"));
        Assert.Equal(4, Delta("scheduler_task_start_delay_seconds_count"));
        // The start delay is ready -> started: c's retry waited out its delay as up_for_retry,
        // not as queued, so no attempt of this run waited anywhere near a minute.
        Assert.Equal(4, Delta("scheduler_task_start_delay_seconds_bucket", ("le", "60")));
    }

    [Fact]
    public async Task TaskInstances_CountTheQueueByPool_AcrossTheCluster()
    {
        // A pool without slots holds its tasks queued: the queue depth the autoscaler reads.
        await Admin.PutJsonAsync("pools/metrics_held", """{"slots":0}""").ExpectAsync(HttpStatusCode.OK);
        await Admin.PostJsonAsync("dags", """{"name":"metrics_queue","tasks":[{"id":"a","pool":"metrics_held"},{"id":"b","pool":"metrics_held"},{"id":"c","pool":"metrics_held"}]}""").ExpectAsync(HttpStatusCode.Created);
        var runId = await Admin.TriggerAsync("metrics_queue");
        var scrape = await WaitForAsync(s => s.Sum("scheduler_task_instances", ("state", "queued"), ("pool", "metrics_held")) == 3);
        Assert.Equal(0, scrape.Sum("scheduler_task_instances", ("state", "running"), ("pool", "metrics_held")));
        await Operator.PostJsonAsync($"runs/{runId}/cancel", "{}").ExpectAsync(HttpStatusCode.OK);
        await WaitForAsync(s => s.Sum("scheduler_task_instances", ("state", "queued"), ("pool", "metrics_held")) == 0);
    }

    /// <summary>
    /// The gauges that need the database are read at most once per refresh period (5 s), not
    /// once per scrape: ten scrapes in four seconds cost one or two readings (two statements
    /// each), counted by PostgreSQL itself. With a scrape every 15 s that is 2 statements per 15 s.
    /// </summary>
    [Fact]
    public async Task Scrapes_ReadTheDatabaseAtMostOncePerRefreshPeriod()
    {
        await TestDatabase.ScalarAsync<object>("create extension if not exists pg_stat_statements");
        const string Count = """
            select coalesce(sum(calls), 0)::bigint from pg_stat_statements
            where dbid = (select oid from pg_database where datname = current_database())
              and query like '%from workers.nodes where heartbeat_at > now() - $1%' and query like 'select count(*)%'
            """;
        await ScrapeAsync();
        var before = await TestDatabase.ScalarAsync<long>(Count);
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < 10; i++)
        {
            // Apart by more than the exporter's 300 ms response cache, so each scrape collects.
            await Task.Delay(350);
            await ScrapeAsync();
        }
        var readings = await TestDatabase.ScalarAsync<long>(Count) - before;
        // A period boundary may fall inside the loop: one reading per started period at most.
        var allowed = 1 + (long)Math.Ceiling(clock.Elapsed.TotalSeconds / 5);
        Assert.InRange(readings, 0, allowed);
        Assert.True(allowed < 10, "the scrapes took too long to tell a reading per scrape from one per period");
    }

    private Task<MetricsScrape> WaitForAsync(Func<MetricsScrape, bool> done) => MetricsScrape.WaitForAsync(Anonymous, done);
}
