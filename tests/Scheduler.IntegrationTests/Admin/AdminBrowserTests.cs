using Microsoft.Extensions.DependencyInjection;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Scheduler.IntegrationTests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Scheduler.IntegrationTests.Admin;

/// <summary>
/// End to end in a real browser against the real server: sign in, create a DAG in the
/// JSON editor (first with a validation error shown at its field path), trigger it, watch
/// the run succeed (live refresh), read a task log, pause the DAG; then a viewer sees no
/// action and is refused one posted anyway. Each page is saved as a screenshot.
/// </summary>
public sealed partial class AdminBrowserTests(ServerFixture server) : BrowserTest(server)
{
    [Fact]
    public async Task Operator_Journey_FromNewDagToPausedDag()
    {
        var page = await Browser.NewPageAsync(Server.BaseAddress);
        await page.GotoAsync("/admin/login");
        await Browser.ScreenshotAsync(page, "01-sign-in");
        await page.CloseAsync();

        page = await SignInAsync(ServerFixture.AdminUser, ServerFixture.AdminPassword);
        await Browser.ScreenshotAsync(page, "02-dashboard");

        // Create in the JSON editor: first an unknown dependency, reported at its path.
        await page.GetByRole(AriaRole.Link, new() { Name = "DAGs" }).ClickAsync();
        await page.GetByTestId("new-dag").ClickAsync();
        var editor = page.GetByLabel("Definition (JSON)");
        await editor.FillAsync("""
            {"name": "browser_dag", "cron": "30 6 * * *", "timezone": "Europe/Paris", "tags": ["e2e"],
             "tasks": [{"id": "hello", "type": "shell", "command": "echo hello from the browser"},
                       {"id": "after", "depends_on": ["helo"]}]}
            """);
        await page.GetByTestId("save-dag").ClickAsync();
        await Expect(page.Locator("#errors li[data-path='tasks[1].depends_on[0]']")).ToContainTextAsync("helo");
        await Browser.ScreenshotAsync(page, "03-dag-editor-validation-error");

        // Invalid JSON is caught in the browser before it is sent.
        await editor.FillAsync("{\"name\": ");
        await page.GetByTestId("save-dag").ClickAsync();
        await Expect(page.Locator("#definition-error")).ToContainTextAsync("Invalid JSON");

        await editor.FillAsync("""
            {"name": "browser_dag", "cron": "30 6 * * *", "timezone": "Europe/Paris", "tags": ["e2e"],
             "tasks": [{"id": "hello", "type": "shell", "command": "echo hello from the browser"},
                       {"id": "after", "depends_on": ["hello"]}]}
            """);
        await page.GetByTestId("save-dag").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/admin/dags/browser_dag$"));
        await Expect(page.GetByTestId("schedule-text")).ToHaveTextAsync("every day at 06:30 (Europe/Paris)");
        await Expect(page.GetByTestId("next-fires").Locator("li")).ToHaveCountAsync(5);
        await Browser.ScreenshotAsync(page, "04-dag-detail-new");

        // Trigger with a conf; a conf that is not an object is refused in the browser.
        await page.GetByTestId("trigger-open").ClickAsync();
        var conf = page.GetByLabel("conf (JSON object, merged over the DAG's params)");
        await conf.FillAsync("[1, 2]");
        await page.GetByTestId("trigger").ClickAsync();
        await Expect(page.Locator("[id='conf-browser_dag-error']")).ToContainTextAsync("must be a JSON object");
        await conf.FillAsync("""{"greeting": "hi"}""");
        await page.GetByTestId("trigger").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/admin/runs/\\d+$"));

        // The run page refreshes itself until the run ends.
        await Expect(page.GetByTestId("run-state")).ToHaveTextAsync("success", new() { Timeout = 30_000 });
        await Expect(page.GetByTestId("gantt")).ToBeVisibleAsync();
        // The dashboard's last hour: the minute's figures once written (each replica writes a
        // minute's count as the minute ends; here at once).
        await Server.Services.GetRequiredService<Scheduler.Modules.Runs.Figures.MinuteFigures>().FlushAsync(CancellationToken.None);
        var runUrl = page.Url;
        await page.GotoAsync("/admin");
        await Expect(page.GetByTestId("spark-throughput")).ToHaveAttributeAsync("aria-label", new Regex(@"peak ([2-9]|\d\d+)/min"));
        await Expect(page.GetByTestId("spark-queue")).ToBeVisibleAsync();
        await Browser.ScreenshotAsync(page, "05a-dashboard-last-hour");
        await page.GotoAsync(runUrl);
        // The run's trace, to look up in the tracing backend.
        await Expect(page.GetByTestId("run-trace-id")).ToHaveTextAsync(new Regex("^[0-9a-f]{32}$"));
        await Browser.ScreenshotAsync(page, "05-run-success");

        await page.Locator("tr[data-task='hello']").GetByTestId("log-link").ClickAsync();
        await Expect(page.GetByTestId("log")).ToContainTextAsync("hello from the browser");
        await Browser.ScreenshotAsync(page, "06-task-log");

        // Back on the DAG: the graph is coloured by the run, the grid shows it; then pause.
        await page.GetByRole(AriaRole.Link, new() { Name = "browser_dag" }).First.ClickAsync();
        await Expect(page.Locator("svg[data-testid=graph] g[data-task='after']")).ToHaveAttributeAsync("data-state", "success");
        await Expect(page.GetByTestId("grid")).ToBeVisibleAsync();
        // The charts of the last runs: one bar each, linking to the run, with its figure as title.
        foreach (var chart in new[] { "chart-duration", "chart-landing", "chart-tries" })
            await Expect(page.Locator($"svg[data-testid={chart}] rect")).ToHaveCountAsync(1);
        await Expect(page.Locator("svg[data-testid=chart-tries] rect title")).ToContainTextAsync("2 tries for 2 tasks");
        await page.Locator("#charts").ScrollIntoViewIfNeededAsync();
        await Browser.ScreenshotAsync(page, "06b-dag-charts");
        await page.GetByTestId("pause").ClickAsync();
        await Expect(page.GetByTestId("paused-badge")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("unpause")).ToBeVisibleAsync();
        await Browser.ScreenshotAsync(page, "07-dag-paused");
        var dag = await Admin.GetAsync("dags/browser_dag").ExpectAsync(System.Net.HttpStatusCode.OK);
        Assert.True(dag.GetProperty("paused").GetBoolean());

        // A second version, and the diff between the two.
        await page.GetByTestId("edit-dag").ClickAsync();
        var text = await page.GetByLabel("Definition (JSON)").InputValueAsync();
        await page.GetByLabel("Definition (JSON)").FillAsync(text.Replace("30 6 * * *", "0 7 * * 1-5"));
        await page.GetByTestId("save-dag").ClickAsync();
        await Expect(page.GetByTestId("schedule-text")).ToHaveTextAsync("every weekday at 07:00 (Europe/Paris)");
        await page.GetByLabel("Compare version").SelectOptionAsync("1");
        await page.GetByLabel("with version").SelectOptionAsync("2");
        await page.GetByRole(AriaRole.Button, new() { Name = "Diff" }).ClickAsync();
        await Expect(page.GetByTestId("diff").Locator(".add")).ToContainTextAsync("0 7 * * 1-5");
        await Browser.ScreenshotAsync(page, "08-dag-version-diff");

        foreach (var (path, name) in new[] { ("/admin/dags", "09-dags"), ("/admin/workers", "10-workers"), ("/admin/dead-letters", "11-dead-letters"),
                     ("/admin/connections", "12-connections"), ("/admin/api-keys", "13-api-keys"),
                     ("/admin/notifications", "18-notifications"), ("/admin/monitors", "19-monitors"), ("/admin/jobs", "20-jobs-dashboard"),
                     ("/admin/users", "14-users") })
        {
            var response = await page.GotoAsync(path);
            Assert.Equal(200, response!.Status);
            await Browser.ScreenshotAsync(page, name);
        }
        await Expect(page.Locator("tr[data-user='admin']")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task LogViewer_FollowsARunningTask_UntilItEnds()
    {
        await Admin.PostJsonAsync("dags", """{"name":"slow","tasks":[{"id":"ticker","type":"shell","command":"echo first line; sleep 3; echo last line"}]}""")
            .ExpectAsync(System.Net.HttpStatusCode.Created);
        var run = await Admin.TriggerAsync("slow");
        await Admin.WaitForTaskAsync(run, "ticker", "running");

        var page = await SignInAsync(ServerFixture.AdminUser, ServerFixture.AdminPassword);
        await page.GotoAsync($"/admin/runs/{run}?task=ticker#log");
        await Expect(page.GetByTestId("log")).ToContainTextAsync("first line");
        await Expect(page.Locator("#log-following")).ToContainTextAsync("Following");
        await Browser.ScreenshotAsync(page, "17-log-following");
        await Expect(page.GetByTestId("log")).ToContainTextAsync("last line", new() { Timeout = 20_000 });
        await Expect(page.Locator("#log-following")).ToContainTextAsync("finished (success)");
        await Expect(page.GetByTestId("run-state")).ToHaveTextAsync("success", new() { Timeout = 10_000 });
    }

    [Fact]
    public async Task MappedTask_IsOneRowWithASummary_AndItsThousandInstancesArePaged()
    {
        var items = string.Join(",", Enumerable.Range(0, 1000));
        await Admin.PostJsonAsync("dags", $$$"""
            {"name":"fanout","params":{"items":[{{{items}}}]},"tasks":[
              {"id":"wide","map_over":"{{ params.items | json }}"},{"id":"after","depends_on":["wide"]}]}
            """).ExpectAsync(System.Net.HttpStatusCode.Created);
        var run = await Admin.TriggerAsync("fanout");
        await Admin.WaitForRunAsync(run, TimeSpan.FromSeconds(90));

        var page = await SignInAsync(ServerFixture.AdminUser, ServerFixture.AdminPassword);
        await page.GotoAsync($"/admin/runs/{run}");
        // One row per task, whatever the width of the map; the Gantt likewise.
        await Expect(page.Locator("#tasks > tbody > tr")).ToHaveCountAsync(2);
        await Expect(page.GetByTestId("mapped-summary")).ToHaveTextAsync("mapped ×1000: 1000 success");
        await Expect(page.Locator("[data-testid=gantt] g")).ToHaveCountAsync(2);
        await Browser.ScreenshotAsync(page, "20-mapped-task-summary");

        await page.GetByTestId("instances-link").ClickAsync();
        var instances = page.GetByTestId("instances");
        await Expect(instances.Locator("tbody tr")).ToHaveCountAsync(100);
        await Expect(instances).ToContainTextAsync("instances page 1 of 10");
        await instances.GetByRole(AriaRole.Link, new() { Name = "Next instances" }).ClickAsync();
        await Expect(instances.Locator("tbody tr").First).ToContainTextAsync("[100]");
        await Browser.ScreenshotAsync(page, "21-mapped-task-instances");
        await instances.Locator("tbody tr").Nth(5).GetByTestId("log-link").ClickAsync();
        await Expect(page.Locator("#log-h")).ToContainTextAsync("wide [105]");
        // The DAG page's graph and grid show the mapped task as its own row's state.
        var dagPage = await page.GotoAsync("/admin/dags/fanout");
        Assert.True(dagPage!.Ok, $"the DAG page answered {dagPage.Status}");
    }

    [Fact]
    public async Task Viewer_SeesNoActions_AndIsRefusedWhenPostingOne()
    {
        await Admin.PostJsonAsync("dags", """{"name":"watched","tasks":[{"id":"a"}]}""").ExpectAsync(System.Net.HttpStatusCode.Created);
        var run = await Admin.TriggerAsync("watched");
        await Admin.WaitForRunAsync(run);
        await Server.CreateUserAsync("viewer1", "viewer", "viewer-password");

        var page = await SignInAsync("viewer1", "viewer-password");
        await Expect(page.GetByTestId("role")).ToHaveTextAsync("viewer");
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Users" })).ToHaveCountAsync(0);
        await page.GotoAsync("/admin/dags");
        await Expect(page.Locator("tr[data-dag='watched']")).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Button)).ToHaveTextAsync(["Sign out", "Filter"]);
        await Browser.ScreenshotAsync(page, "15-viewer-dags");
        await page.GotoAsync($"/admin/runs/{run}");
        await Expect(page.GetByTestId("run-state")).ToHaveTextAsync("success");
        await Expect(page.GetByRole(AriaRole.Button)).ToHaveTextAsync(["Sign out"]);
        await Browser.ScreenshotAsync(page, "16-viewer-run");

        // Posting an action anyway, with a valid antiforgery token (from the sign-out form): 403.
        var status = await page.EvaluateAsync<int>("""
            async () => {
              const token = document.querySelector('input[name=__RequestVerificationToken]').value;
              const body = new URLSearchParams({ paused: 'true', __RequestVerificationToken: token });
              const r = await fetch('/admin/dags/watched?handler=Pause', { method: 'POST', body, redirect: 'manual' });
              return r.status;
            }
            """);
        Assert.Equal(403, status);
        var dag = await Admin.GetAsync("dags/watched").ExpectAsync(System.Net.HttpStatusCode.OK);
        Assert.False(dag.GetProperty("paused").GetBoolean());
        var forbidden = await page.GotoAsync("/admin/users");
        Assert.Equal(403, forbidden!.Status);
    }
}
