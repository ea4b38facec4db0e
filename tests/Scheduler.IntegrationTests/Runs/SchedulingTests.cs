using System.Net;
using Mediator;
using Microsoft.Extensions.DependencyInjection;
using Scheduler.IntegrationTests.Infrastructure;
using Scheduler.Modules.Runs;

namespace Scheduler.IntegrationTests.Runs;

/// <summary>The due-run scan, driven directly so the test decides what is due.</summary>
public sealed class SchedulingTests(ServerFixture server) : ServerTest(server)
{
    /// <summary>
    /// A scan, as the loop runs it. The server's own loop races it: a rewind to an earlier
    /// time wakes the loop by NOTIFY, so which of them creates the runs is not fixed, and the
    /// tests check the runs that exist afterwards rather than this count.
    /// </summary>
    private async Task<int> ScanAsync()
    {
        await using var scope = Server.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ISender>().Send(new ScheduleDueRuns.Command());
    }

    private static Task Rewind(string dag, string nextRunAt) =>
        TestDatabase.ScalarAsync<int>($"update dags.dags set next_run_at = '{nextRunAt}' where name = '{dag}'");

    private async Task<List<string>> LogicalDates(string dag) =>
        (await Viewer.GetAsync($"dags/{dag}/runs?limit=500").ExpectAsync(HttpStatusCode.OK)).GetProperty("items").EnumerateArray()
            .Select(r => r.GetProperty("logical_date").GetString()!).Order().ToList();

    [Fact]
    public async Task Scan_CreatesOnlyLatestMissedRun_WithoutCatchup()
    {
        await Admin.PostJsonAsync("dags", """{"name":"hourly","cron":"0 * * * *","tasks":[{"id":"a"}]}""").ExpectAsync(HttpStatusCode.Created);
        var now = DateTimeOffset.UtcNow;
        var hourAgo3 = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, 0, 0, TimeSpan.Zero).AddHours(-3);
        await Rewind("hourly", hourAgo3.ToString("O"));
        await ScanAsync();
        Assert.Equal([hourAgo3.AddHours(3).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'")], await LogicalDates("hourly"));
        var dag = await Viewer.GetAsync("dags/hourly").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(hourAgo3.AddHours(4), DateTimeOffset.Parse(dag.GetProperty("next_run_at").GetString()!));
    }

    /// <summary>Waits (the loop or a scan may create them) until the DAG's runs satisfy <paramref name="done"/>.</summary>
    private async Task<List<string>> LogicalDatesWhen(string dag, Func<List<string>, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var dates = await LogicalDates(dag);
            if (done(dates) || DateTime.UtcNow > deadline)
                return dates;
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task Scan_UsesTheScheduleOfTheCurrentVersion_AfterAnUpdate()
    {
        await Admin.PostJsonAsync("dags", """{"name":"moving","cron":"0 * * * *","tasks":[{"id":"a"}]}""").ExpectAsync(HttpStatusCode.Created);
        var now = DateTimeOffset.UtcNow;
        var hour = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, 0, 0, TimeSpan.Zero);
        await Rewind("moving", hour.AddHours(-2).ToString("O"));
        await ScanAsync();
        Assert.Single(await LogicalDatesWhen("moving", d => d.Count > 0));
        // Version 2 fires at minute 30: the scan must not keep using the hourly schedule it saw.
        await Admin.PutJsonAsync("dags/moving", """{"name":"moving","cron":"30 * * * *","tasks":[{"id":"a"}]}""").ExpectAsync(HttpStatusCode.OK);
        var halfPast = hour.AddMinutes(30) <= now ? hour.AddMinutes(30) : hour.AddMinutes(-30);
        await Rewind("moving", halfPast.AddHours(-1).ToString("O"));
        await ScanAsync();
        var expected = halfPast.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'");
        Assert.Contains(expected, await LogicalDatesWhen("moving", d => d.Contains(expected)));
        var dag = await Viewer.GetAsync("dags/moving").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(halfPast.AddHours(1), DateTimeOffset.Parse(dag.GetProperty("next_run_at").GetString()!));
    }

    [Fact]
    public async Task DueSchedules_ArePagedInDueOrder_SoBatchesCanOverlap()
    {
        // Due an hour from now: the server's own loop leaves them alone, the query is asked about later.
        var later = DateTimeOffset.UtcNow.AddHours(1);
        for (var i = 0; i < 7; i++)
        {
            await Admin.PostJsonAsync("dags", $$"""{"name":"many_{{i}}","cron":"0 * * * *","tasks":[{"id":"a"}]}""").ExpectAsync(HttpStatusCode.Created);
            await Rewind($"many_{i}", later.AddSeconds(i % 3).ToString("O"));
        }
        await using var scope = Server.Services.CreateAsyncScope();
        var sender = scope.ServiceProvider.GetRequiredService<ISender>();
        var seen = new List<Scheduler.Modules.Dags.Contracts.DueSchedule>();
        (DateTimeOffset, long)? after = null;
        while (true)
        {
            var page = await sender.Send(new Scheduler.Modules.Dags.Contracts.GetDueSchedules(later.AddMinutes(1), 2, after));
            if (page.Count == 0)
                break;
            Assert.True(page.Count <= 2);
            seen.AddRange(page);
            after = (page[^1].DueAt, page[^1].DagId);
        }
        Assert.Equal(Enumerable.Range(0, 7).Select(i => $"many_{i}").Order(), seen.Select(s => s.Name).Order());
        Assert.Equal(seen.OrderBy(s => s.DueAt).ThenBy(s => s.DagId).Select(s => s.DagId), seen.Select(s => s.DagId));
    }

    [Fact]
    public async Task Scan_CatchesUp_BoundedByMaxCatchupRuns()
    {
        await Admin.PostJsonAsync("dags", """{"name":"cu","cron":"0 * * * *","catchup":true,"max_catchup_runs":3,"max_active_runs":10,"tasks":[{"id":"a"}]}""").ExpectAsync(HttpStatusCode.Created);
        var now = DateTimeOffset.UtcNow;
        var start = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, 0, 0, TimeSpan.Zero).AddHours(-5);
        await Rewind("cu", start.ToString("O"));
        await ScanAsync();
        Assert.Equal(new[] { 3, 4, 5 }.Select(h => start.AddHours(h).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'")), await LogicalDates("cu"));
        var runs = (await Viewer.GetAsync("dags/cu/runs").ExpectAsync(HttpStatusCode.OK)).GetProperty("items").EnumerateArray();
        Assert.All(runs, r => Assert.Equal("catchup", r.GetProperty("run_type").GetString()));
    }

    [Fact]
    public async Task Unpause_CreatesWhatWasMissed_PerCatchupSetting()
    {
        await Admin.PostJsonAsync("dags", """{"name":"with_cu","cron":"0 * * * *","catchup":true,"max_active_runs":10,"tasks":[{"id":"a"}]}""").ExpectAsync(HttpStatusCode.Created);
        await Admin.PostJsonAsync("dags", """{"name":"without_cu","cron":"0 * * * *","tasks":[{"id":"a"}]}""").ExpectAsync(HttpStatusCode.Created);
        var now = DateTimeOffset.UtcNow;
        var hour = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, 0, 0, TimeSpan.Zero);
        foreach (var dag in new[] { "with_cu", "without_cu" })
        {
            await Operator.PostAsync($"dags/{dag}/pause", null).ExpectAsync(HttpStatusCode.OK);
            // Paused for three hours: the schedule stopped at the first of them.
            await Rewind(dag, hour.AddHours(-2).ToString("O"));
            await Operator.PostAsync($"dags/{dag}/unpause", null).ExpectAsync(HttpStatusCode.OK);
        }
        await ScanAsync();
        Assert.Equal(3, (await LogicalDates("with_cu")).Count);
        Assert.Equal([hour.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'")], await LogicalDates("without_cu"));
    }

    [Fact]
    public async Task DuplicateFirings_CreateOneRunPerLogicalDate()
    {
        await Admin.PostJsonAsync("dags", """{"name":"dup","cron":"*/5 * * * *","tasks":[{"id":"a"}]}""").ExpectAsync(HttpStatusCode.Created);
        var due = DateTimeOffset.UtcNow.AddMinutes(-1);
        var dueAt = new DateTimeOffset(due.Year, due.Month, due.Day, due.Hour, due.Minute - due.Minute % 5, 0, TimeSpan.Zero);
        await Rewind("dup", dueAt.ToString("O"));
        // Two scans at once, as two replicas racing would run them.
        var created = await Task.WhenAll(ScanAsync(), ScanAsync(), ScanAsync());
        Assert.InRange(created.Sum(), 0, 1); // 0 when the loop won the race
        await Rewind("dup", dueAt.ToString("O"));
        Assert.Equal(0, await ScanAsync());
        Assert.Single(await LogicalDates("dup"));
    }

    [Fact]
    public async Task Scan_SkipsPausedDags_AndHonoursEndDate()
    {
        await Admin.PostJsonAsync("dags", """{"name":"paused_one","cron":"* * * * *","paused":true,"tasks":[{"id":"a"}]}""").ExpectAsync(HttpStatusCode.Created);
        await Admin.PostJsonAsync("dags", """{"name":"ended","cron":"* * * * *","end_date":"2020-01-01T00:00:00Z","tasks":[{"id":"a"}]}""").ExpectAsync(HttpStatusCode.Created);
        await Rewind("paused_one", DateTimeOffset.UtcNow.AddMinutes(-2).ToString("O"));
        Assert.Equal(0, await ScanAsync());
        Assert.Empty(await LogicalDates("paused_one"));
        var ended = await Viewer.GetAsync("dags/ended").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, ended.GetProperty("next_run_at").ValueKind);
    }

    [Fact]
    public async Task ScheduledRuns_AreCreatedByTheClusteredScanner()
    {
        await Admin.PostJsonAsync("dags", """{"name":"tick","cron":"* * * * * *","tasks":[{"id":"a"}]}""").ExpectAsync(HttpStatusCode.Created);
        await Task.Delay(TimeSpan.FromSeconds(3.5));
        await Operator.PostAsync("dags/tick/pause", null).ExpectAsync(HttpStatusCode.OK);
        var dates = await LogicalDates("tick");
        Assert.InRange(dates.Count, 2, 5);
        Assert.Equal(dates.Count, dates.Distinct().Count());
        Assert.All(dates, d => Assert.EndsWith("Z", d));
    }
}
