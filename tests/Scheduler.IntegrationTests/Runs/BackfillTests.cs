using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Runs;

/// <summary>Backfills over HTTP: dry run, bulk creation, limits, reprocess, cancel.</summary>
public sealed class BackfillTests(ServerFixture server) : ServerTest(server)
{
    private Task CreateDagAsync(string name, string extra = "", string task = """{"id":"a"}""") =>
        Admin.PostJsonAsync("dags", $$"""{"name":"{{name}}","cron":"0 0 * * *","paused":true,{{extra}}"tasks":[{{task}}]}""").ExpectAsync(HttpStatusCode.Created);

    private static string Body(string from, string to, string extra = "") =>
        $$"""{"from":"{{from}}","to":"{{to}}"{{extra}}}""";

    private async Task<JsonElement> WaitForBackfillAsync(long id, Func<JsonElement, bool> done, TimeSpan? timeout = null)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var backfill = await Viewer.GetAsync($"backfills/{id}").ExpectAsync(HttpStatusCode.OK);
            if (done(backfill))
                return backfill;
            if (clock.Elapsed > (timeout ?? TimeSpan.FromSeconds(30)))
                throw new TimeoutException(backfill.ToString());
            await Task.Delay(100);
        }
    }

    private async Task<List<JsonElement>> RunsAsync(string dag) =>
        (await Viewer.GetAsync($"dags/{dag}/runs?limit=500").ExpectAsync(HttpStatusCode.OK)).GetProperty("items").EnumerateArray().ToList();

    [Fact]
    public async Task DryRun_ListsTheDates_WithCalendarsApplied_AndCreatesNothing()
    {
        await Admin.PutJsonAsync("calendars/closed", """{"exclude_dates":["2026-01-05"]}""").ExpectAsync(HttpStatusCode.Created);
        await CreateDagAsync("history", "\"exclude_calendars\":[\"closed\"],");
        var dry = await Operator.PostJsonAsync("dags/history/backfills", Body("2026-01-01T00:00:00Z", "2026-01-10T00:00:00Z", ",\"dry_run\":true")).ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(9, dry.GetProperty("count").GetInt32());
        var dates = dry.GetProperty("logical_dates").EnumerateArray().Select(d => d.GetString()).ToList();
        Assert.Equal("2026-01-01T00:00:00Z", dates[0]);
        Assert.Equal("2026-01-10T00:00:00Z", dates[^1]);
        Assert.DoesNotContain("2026-01-05T00:00:00Z", dates);
        Assert.Empty(await RunsAsync("history"));
        var list = await Viewer.GetAsync("dags/history/backfills").ExpectAsync(HttpStatusCode.OK);
        Assert.Empty(list.GetProperty("items").EnumerateArray());

        // The real call creates exactly those dates, as backfill runs, and they all run.
        var backfill = await Operator.PostJsonAsync("dags/history/backfills", Body("2026-01-01T00:00:00Z", "2026-01-10T00:00:00Z", ",\"max_active_runs\":3")).ExpectAsync(HttpStatusCode.Created);
        var id = backfill.GetProperty("id").GetInt64();
        Assert.Equal(9, backfill.GetProperty("total").GetInt32());
        Assert.Equal(9, backfill.GetProperty("created").GetInt32());
        Assert.Equal("missing", backfill.GetProperty("reprocess").GetString());
        var runs = await RunsAsync("history");
        Assert.Equal(dates, runs.Select(r => r.GetProperty("logical_date").GetString()).Order().ToList());
        Assert.All(runs, r => Assert.Equal("backfill", r.GetProperty("run_type").GetString()));
        var done = await WaitForBackfillAsync(id, b => b.GetProperty("state").GetString() == "completed");
        Assert.Equal(9, done.GetProperty("succeeded").GetInt32());
        Assert.Equal(0, done.GetProperty("failed").GetInt32());
        Assert.NotEqual(JsonValueKind.Null, done.GetProperty("finished_at").ValueKind);
        var listed = await Viewer.GetAsync("dags/history/backfills").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal([id], listed.GetProperty("items").EnumerateArray().Select(b => b.GetProperty("id").GetInt64()));

        // Nothing missing any more: a second dry run has nothing to do.
        var again = await Operator.PostJsonAsync("dags/history/backfills", Body("2026-01-01T00:00:00Z", "2026-01-10T00:00:00Z", ",\"dry_run\":true")).ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(0, again.GetProperty("count").GetInt32());
        var all = await Operator.PostJsonAsync("dags/history/backfills", Body("2026-01-01T00:00:00Z", "2026-01-10T00:00:00Z", ",\"dry_run\":true,\"reprocess\":\"all\"")).ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(9, all.GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task Backfill_RunsAtMostMaxActiveRuns_AndLeavesRoomForOtherRuns()
    {
        await CreateDagAsync("slow", "\"max_active_runs\":1,", """{"id":"a","type":"shell","command":"sleep 0.7"}""");
        var backfill = await Operator.PostJsonAsync("dags/slow/backfills", Body("2026-02-01T00:00:00Z", "2026-02-05T00:00:00Z", ",\"max_active_runs\":2")).ExpectAsync(HttpStatusCode.Created);
        var id = backfill.GetProperty("id").GetInt64();
        // A manual run of the same DAG (max_active_runs 1) starts at once: backfill runs do not take its room.
        var manual = await Operator.TriggerAsync("slow");
        var run = await Viewer.GetAsync($"runs/{manual}").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("running", run.GetProperty("state").GetString());
        var most = 0;
        var done = await WaitForBackfillAsync(id, b =>
        {
            most = Math.Max(most, b.GetProperty("running").GetInt32());
            return b.GetProperty("state").GetString() == "completed";
        });
        Assert.InRange(most, 1, 2);
        Assert.Equal(5, done.GetProperty("succeeded").GetInt32());
        Assert.Equal("success", (await Viewer.WaitForRunAsync(manual)).GetProperty("state").GetString());
    }

    [Fact]
    public async Task ReprocessFailed_RerunsTheFailedRuns_InPlace()
    {
        await CreateDagAsync("flaky", "", """{"id":"a","type":"shell","command":"test -f /tmp/backfill-flaky-ok-$SCHEDULER_RUN_ID || exit 1"}""");
        var first = await Operator.PostJsonAsync("dags/flaky/backfills", Body("2026-03-01T00:00:00Z", "2026-03-03T00:00:00Z")).ExpectAsync(HttpStatusCode.Created);
        var done = await WaitForBackfillAsync(first.GetProperty("id").GetInt64(), b => b.GetProperty("state").GetString() == "completed");
        Assert.Equal(3, done.GetProperty("failed").GetInt32());
        var runIds = (await RunsAsync("flaky")).Select(r => r.GetProperty("run_id").GetInt64()).Order().ToList();

        var missing = await Operator.PostJsonAsync("dags/flaky/backfills", Body("2026-03-01T00:00:00Z", "2026-03-03T00:00:00Z", ",\"dry_run\":true")).ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(0, missing.GetProperty("count").GetInt32());
        var failedDry = await Operator.PostJsonAsync("dags/flaky/backfills", Body("2026-02-28T00:00:00Z", "2026-03-03T00:00:00Z", ",\"dry_run\":true,\"reprocess\":\"failed\"")).ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(4, failedDry.GetProperty("count").GetInt32()); // the 3 failed and the 28th, which has no run

        foreach (var runId in runIds)
            await File.WriteAllTextAsync($"/tmp/backfill-flaky-ok-{runId}", "");
        try
        {
            var second = await Operator.PostJsonAsync("dags/flaky/backfills", Body("2026-03-01T00:00:00Z", "2026-03-03T00:00:00Z", ",\"reprocess\":\"failed\"")).ExpectAsync(HttpStatusCode.Created);
            Assert.Equal(3, second.GetProperty("created").GetInt32());
            var rerun = await WaitForBackfillAsync(second.GetProperty("id").GetInt64(), b => b.GetProperty("state").GetString() == "completed");
            Assert.Equal(3, rerun.GetProperty("succeeded").GetInt32());
            var runs = await RunsAsync("flaky");
            Assert.Equal(runIds, runs.Select(r => r.GetProperty("run_id").GetInt64()).Order().ToList());
            Assert.All(runs, r => Assert.Equal("success", r.GetProperty("state").GetString()));
        }
        finally
        {
            foreach (var runId in runIds)
                File.Delete($"/tmp/backfill-flaky-ok-{runId}");
        }
    }

    [Fact]
    public async Task Cancel_StopsTheBackfill_AndCancelsItsQueuedRuns()
    {
        await CreateDagAsync("long", "", """{"id":"a","type":"shell","command":"sleep 1"}""");
        var backfill = await Operator.PostJsonAsync("dags/long/backfills", Body("2026-04-01T00:00:00Z", "2026-04-06T00:00:00Z", ",\"max_active_runs\":1")).ExpectAsync(HttpStatusCode.Created);
        var id = backfill.GetProperty("id").GetInt64();
        await Viewer.ForbiddenPostAsync(id);
        var cancelled = await Operator.PostJsonAsync($"backfills/{id}/cancel", "{}").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("cancelled", cancelled.GetProperty("state").GetString());
        Assert.True(cancelled.GetProperty("cancelled").GetInt32() >= 4, cancelled.ToString());
        await Operator.PostJsonAsync($"backfills/{id}/cancel", "{}").ExpectAsync(HttpStatusCode.OK);
        var settled = await WaitForBackfillAsync(id, b => b.GetProperty("running").GetInt32() == 0 && b.GetProperty("queued").GetInt32() == 0);
        Assert.Equal(6, settled.GetProperty("succeeded").GetInt32() + settled.GetProperty("cancelled").GetInt32());
        Assert.Equal("cancelled", settled.GetProperty("state").GetString());
    }

    [Fact]
    public async Task Backfill_CreatesThousandsOfRunsInBulk()
    {
        await Admin.PostJsonAsync("dags", """{"name":"minutely","cron":"* * * * *","paused":true,"tasks":[{"id":"a"}]}""").ExpectAsync(HttpStatusCode.Created);
        var clock = Stopwatch.StartNew();
        var backfill = await Operator.PostJsonAsync("dags/minutely/backfills", Body("2026-05-01T00:00:00Z", "2026-05-02T09:19:00Z", ",\"max_active_runs\":1")).ExpectAsync(HttpStatusCode.Created);
        clock.Stop();
        Assert.Equal(2000, backfill.GetProperty("total").GetInt32());
        Assert.Equal(2000, backfill.GetProperty("created").GetInt32());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"{clock.Elapsed}");
        await Operator.PostJsonAsync($"backfills/{backfill.GetProperty("id").GetInt64()}/cancel", "{}").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(2000, await TestDatabase.ScalarAsync<long>("select count(*) from runs.dag_runs where run_type = 'backfill'"));
    }

    [Theory]
    [InlineData("""{"to":"2026-01-02T00:00:00Z"}""", "from")]
    [InlineData("""{"from":"2026-01-02T00:00:00Z"}""", "to")]
    [InlineData("""{"from":"2026-01-02T00:00:00Z","to":"2026-01-01T00:00:00Z"}""", "to")]
    [InlineData("""{"from":"2026-01-01T00:00:00Z","to":"2026-01-02T00:00:00Z","reprocess":"some"}""", "reprocess")]
    [InlineData("""{"from":"2026-01-01T00:00:00Z","to":"2026-01-02T00:00:00Z","max_active_runs":0}""", "max_active_runs")]
    [InlineData("""{"from":"2000-01-01T00:00:00Z","to":"2026-01-02T00:00:00Z"}""", "to")]
    public async Task Start_Rejects_BadRequests_KeyedByField(string body, string field)
    {
        await Admin.PostJsonAsync("dags", """{"name":"every_minute","cron":"* * * * *","paused":true,"tasks":[{"id":"a"}]}""").ExpectAsync(HttpStatusCode.Created);
        var problem = await Operator.PostJsonAsync("dags/every_minute/backfills", body).ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(problem.Errors(field));
    }

    [Fact]
    public async Task Start_Answers404And400_ForMissingOrUnscheduledDags()
    {
        await Operator.PostJsonAsync("dags/none/backfills", Body("2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z")).ExpectProblemAsync(HttpStatusCode.NotFound);
        await Admin.PostJsonAsync("dags", """{"name":"unscheduled","tasks":[{"id":"a"}]}""").ExpectAsync(HttpStatusCode.Created);
        var problem = await Operator.PostJsonAsync("dags/unscheduled/backfills", Body("2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z")).ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("no schedule", problem.Errors("$")[0]);
        await Viewer.GetAsync("backfills/424242").ExpectProblemAsync(HttpStatusCode.NotFound);
        await Operator.PostJsonAsync("backfills/424242/cancel", "{}").ExpectProblemAsync(HttpStatusCode.NotFound);
    }
}

internal static class BackfillTestExtensions
{
    public static Task ForbiddenPostAsync(this HttpClient viewer, long id) =>
        viewer.PostJsonAsync($"backfills/{id}/cancel", "{}").ExpectProblemAsync(HttpStatusCode.Forbidden);
}
