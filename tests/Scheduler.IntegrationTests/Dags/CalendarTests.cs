using System.Net;
using Mediator;
using Microsoft.Extensions.DependencyInjection;
using Scheduler.IntegrationTests.Infrastructure;
using Scheduler.Modules.Runs;

namespace Scheduler.IntegrationTests.Dags;

/// <summary>Calendars, exclude_calendars and maintenance windows over HTTP, and the scan that applies them.</summary>
public sealed class CalendarTests(ServerFixture server) : ServerTest(server)
{
    private static string Day(DateTimeOffset t) => t.ToString("yyyy-MM-dd");
    private static string Instant(DateTimeOffset t) => t.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'");

    [Fact]
    public async Task Put_CreatesThenReplaces_AndGetListDeleteWork()
    {
        var created = await Admin.PutJsonAsync("calendars/trading", """
            {"timezone":"America/New_York","exclude_dates":["2027-01-01"],"exclude_ranges":[{"from":"2027-12-24","to":"2027-12-31"}],"holidays":"us","description":"NYSE-ish"}
            """).ExpectAsync(HttpStatusCode.Created);
        Assert.Equal("trading", created.GetProperty("name").GetString());
        Assert.Equal("America/New_York", created.GetProperty("timezone").GetString());
        Assert.Equal("US", created.GetProperty("holidays").GetString());
        Assert.Equal(["2027-01-01"], created.GetProperty("exclude_dates").EnumerateArray().Select(d => d.GetString()));
        Assert.Equal("2027-12-24", created.GetProperty("exclude_ranges")[0].GetProperty("from").GetString());
        Assert.Equal("NYSE-ish", created.GetProperty("description").GetString());

        var replaced = await Admin.PutJsonAsync("calendars/trading", """{"exclude_dates":["2027-07-05"]}""").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("UTC", replaced.GetProperty("timezone").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, replaced.GetProperty("holidays").ValueKind);
        var got = await Viewer.GetAsync("calendars/trading").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(["2027-07-05"], got.GetProperty("exclude_dates").EnumerateArray().Select(d => d.GetString()));

        for (var i = 0; i < 3; i++)
            await Admin.PutJsonAsync($"calendars/c{i}", "{}").ExpectAsync(HttpStatusCode.Created);
        var page = await Viewer.GetAsync("calendars?limit=2").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(["c0", "c1"], page.GetProperty("items").EnumerateArray().Select(c => c.GetProperty("name").GetString()));
        var rest = await Viewer.GetAsync($"calendars?limit=2&cursor={page.GetProperty("next_cursor").GetString()}").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(["c2", "trading"], rest.GetProperty("items").EnumerateArray().Select(c => c.GetProperty("name").GetString()));

        using (var deleted = await Admin.DeleteAsync("calendars/trading"))
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await Viewer.GetAsync("calendars/trading").ExpectProblemAsync(HttpStatusCode.NotFound);
        await Admin.DeleteAsync("calendars/trading").ExpectProblemAsync(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("""{"timezone":"Mars/Olympus"}""", "timezone")]
    [InlineData("""{"exclude_dates":["2027-02-30"]}""", "exclude_dates[0]")]
    [InlineData("""{"exclude_dates":["1 Jan 2027"]}""", "exclude_dates[0]")]
    [InlineData("""{"exclude_ranges":[{"from":"2027-01-05","to":"2027-01-01"}]}""", "exclude_ranges[0].to")]
    [InlineData("""{"exclude_ranges":[{"from":"2027-01-05"}]}""", "exclude_ranges[0].to")]
    [InlineData("""{"exclude_ranges":[{"from":"2027-01-05","to":"2027-01-06","note":1}]}""", "exclude_ranges[0].note")]
    [InlineData("""{"holidays":"XX"}""", "holidays")]
    [InlineData("""{"holidays_country":"US"}""", "holidays_country")]
    public async Task Put_Rejects_BadFields_KeyedByPath(string body, string field)
    {
        var problem = await Admin.PutJsonAsync("calendars/bad", body).ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(problem.Errors(field));
        await Viewer.GetAsync("calendars/bad").ExpectProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Writes_NeedAdmin_ReadsAViewer()
    {
        await Operator.PutJsonAsync("calendars/x", "{}").ExpectProblemAsync(HttpStatusCode.Forbidden);
        await Admin.PutJsonAsync("calendars/x", "{}").ExpectAsync(HttpStatusCode.Created);
        await Viewer.GetAsync("calendars/x").ExpectAsync(HttpStatusCode.OK);
        await Operator.DeleteAsync("calendars/x").ExpectProblemAsync(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Dag_Rejects_UnknownCalendars_AndBadMaintenanceWindows()
    {
        var problem = await Admin.PostJsonAsync("dags", """
            {"name":"d","cron":"0 9 * * *","exclude_calendars":["nope","nope"],
             "maintenance_windows":[{"cron":"61 * * * *","duration":"PT1H"},{"cron":"0 2 * * *"},{"cron":"0 2 * * *","duration":"P8D","extra":true}],
             "tasks":[{"id":"a"}]}
            """).ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("unknown calendar", problem.Errors("exclude_calendars[0]")[0]);
        Assert.Contains("twice", problem.Errors("exclude_calendars[1]")[0]);
        Assert.NotEmpty(problem.Errors("maintenance_windows[0].cron"));
        Assert.NotEmpty(problem.Errors("maintenance_windows[1].duration"));
        Assert.NotEmpty(problem.Errors("maintenance_windows[2].duration"));
        Assert.NotEmpty(problem.Errors("maintenance_windows[2].extra"));
    }

    [Fact]
    public async Task Delete_Returns409_WhileADagExcludesIt()
    {
        await Admin.PutJsonAsync("calendars/ops", "{}").ExpectAsync(HttpStatusCode.Created);
        await Admin.PostJsonAsync("dags", """{"name":"uses_ops","cron":"0 9 * * *","exclude_calendars":["ops"],"tasks":[{"id":"a"}]}""").ExpectAsync(HttpStatusCode.Created);
        var problem = await Admin.DeleteAsync("calendars/ops").ExpectProblemAsync(HttpStatusCode.Conflict);
        Assert.Contains("uses_ops", problem.GetProperty("detail").GetString());
        await Admin.PutJsonAsync("dags/uses_ops", """{"name":"uses_ops","cron":"0 9 * * *","tasks":[{"id":"a"}]}""").ExpectAsync(HttpStatusCode.OK);
        using var deleted = await Admin.DeleteAsync("calendars/ops");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
    }

    [Fact]
    public async Task Schedule_SkipsExcludedDaysAndHolidays_AndSaysWhy()
    {
        await Admin.PutJsonAsync("calendars/office", """{"exclude_dates":["2030-01-02"],"holidays":"GB"}""").ExpectAsync(HttpStatusCode.Created);
        await Admin.PostJsonAsync("dags", """{"name":"daily","cron":"0 9 * * *","exclude_calendars":["office"],"tasks":[{"id":"a"}]}""").ExpectAsync(HttpStatusCode.Created);
        var schedule = await Viewer.GetAsync("dags/daily/schedule?count=3&from=2029-12-31T12:00:00Z").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(["2030-01-03T09:00:00Z", "2030-01-04T09:00:00Z", "2030-01-05T09:00:00Z"],
            schedule.GetProperty("items").EnumerateArray().Select(i => i.GetString()));
        var fires = schedule.GetProperty("fires").EnumerateArray().ToList();
        Assert.Equal(5, fires.Count);
        Assert.True(fires[0].GetProperty("skipped").GetBoolean());
        Assert.Contains("GB public holiday", fires[0].GetProperty("reason").GetString());
        Assert.Contains("office", fires[1].GetProperty("reason").GetString());
        Assert.False(fires[2].GetProperty("skipped").GetBoolean());
        Assert.Equal("2030-01-03T09:00:00Z", fires[2].GetProperty("due_at").GetString());
    }

    [Fact]
    public async Task NextRunAt_FollowsTheCalendar_WhenTheCalendarChanges()
    {
        var now = DateTimeOffset.UtcNow;
        var days = Enumerable.Range(0, 4).Select(i => $"\"{Day(now.AddDays(i))}\"");
        await Admin.PutJsonAsync("calendars/away", $$"""{"exclude_dates":[{{string.Join(",", days)}}]}""").ExpectAsync(HttpStatusCode.Created);
        var dag = await Admin.PostJsonAsync("dags", """{"name":"noon","cron":"0 12 * * *","exclude_calendars":["away"],"tasks":[{"id":"a"}]}""").ExpectAsync(HttpStatusCode.Created);
        var expected = new DateTimeOffset(now.Year, now.Month, now.Day, 12, 0, 0, TimeSpan.Zero).AddDays(4);
        Assert.Equal(expected, DateTimeOffset.Parse(dag.GetProperty("next_run_at").GetString()!));

        await Admin.PutJsonAsync("calendars/away", "{}").ExpectAsync(HttpStatusCode.OK);
        var next = DateTimeOffset.Parse((await Viewer.GetAsync("dags/noon").ExpectAsync(HttpStatusCode.OK)).GetProperty("next_run_at").GetString()!);
        Assert.True(next < expected && next > now && next.Hour == 12, next.ToString("O"));
    }

    private async Task ScanAsync()
    {
        await using var scope = Server.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<ISender>().Send(new ScheduleDueRuns.Command());
    }

    private async Task<List<string>> LogicalDatesWhen(string dag, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var dates = (await Viewer.GetAsync($"dags/{dag}/runs?limit=500").ExpectAsync(HttpStatusCode.OK)).GetProperty("items").EnumerateArray()
                .Select(r => r.GetProperty("logical_date").GetString()!).Order().ToList();
            if (dates.Count >= count || DateTime.UtcNow > deadline)
                return dates;
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task Scan_CatchesUp_WithoutTheExcludedDays()
    {
        var today = new DateTimeOffset(DateTimeOffset.UtcNow.Date, TimeSpan.Zero);
        await Admin.PutJsonAsync("calendars/gap", $$"""{"exclude_dates":["{{Day(today.AddDays(-3))}}"]}""").ExpectAsync(HttpStatusCode.Created);
        await Admin.PostJsonAsync("dags", """{"name":"nightly","cron":"0 0 * * *","catchup":true,"exclude_calendars":["gap"],"tasks":[{"id":"a"}]}""").ExpectAsync(HttpStatusCode.Created);
        await TestDatabase.ScalarAsync<int>($"update dags.dags set next_run_at = '{today.AddDays(-5):O}' where name = 'nightly'");
        await ScanAsync();
        var expected = new[] { -5, -4, -2, -1, 0 }.Select(d => Instant(today.AddDays(d))).ToList();
        Assert.Equal(expected, await LogicalDatesWhen("nightly", 5));
    }

    [Fact]
    public async Task Scan_HoldsRunsDueInAMaintenanceWindow_UntilItEnds()
    {
        var now = DateTimeOffset.UtcNow;
        var today = new DateTimeOffset(now.Date, TimeSpan.Zero);
        await Admin.PostJsonAsync("dags", """
            {"name":"held","cron":"0 0 * * *","catchup":true,"maintenance_windows":[{"cron":"0 0 * * *","duration":"PT6H"}],"tasks":[{"id":"a"}]}
            """).ExpectAsync(HttpStatusCode.Created);
        var dag = await Viewer.GetAsync("dags/held").ExpectAsync(HttpStatusCode.OK);
        var released = now < today.AddHours(6) ? today.AddHours(6) : today.AddDays(1).AddHours(6);
        Assert.Equal(released, DateTimeOffset.Parse(dag.GetProperty("next_run_at").GetString()!));
        var fire = (await Viewer.GetAsync("dags/held/schedule?count=1").ExpectAsync(HttpStatusCode.OK)).GetProperty("fires")[0];
        Assert.Equal(Instant(released), fire.GetProperty("due_at").GetString());
        Assert.Contains("maintenance window", fire.GetProperty("reason").GetString());

        // Three days held and released (06:00 each); today's midnight only once today's 06:00 has passed.
        await TestDatabase.ScalarAsync<int>($"update dags.dags set next_run_at = '{today.AddDays(-3).AddHours(6):O}' where name = 'held'");
        await ScanAsync();
        var expected = Enumerable.Range(-3, now >= today.AddHours(6) ? 4 : 3).Select(d => Instant(today.AddDays(d))).ToList();
        Assert.Equal(expected, await LogicalDatesWhen("held", expected.Count));
        dag = await Viewer.GetAsync("dags/held").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(released, DateTimeOffset.Parse(dag.GetProperty("next_run_at").GetString()!));
    }
}
