using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Scheduler.IntegrationTests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Scheduler.IntegrationTests.Admin;

/// <summary>
/// In a real browser: the trigger form built from a DAG's params_schema (inputs by type, enum
/// choices, defaults, descriptions; a value the schema refuses is reported by path), the
/// variables page (a secret never shown), and the backfill page (the dry run shown before the
/// backfill starts). Each page is saved as a screenshot.
/// </summary>
public sealed class AdminAuthoringBrowserTests(ServerFixture server) : BrowserTest(server)
{
    [Fact]
    public async Task TriggerForm_IsBuiltFromTheParamsSchema_AndRefusesWhatTheSchemaRefuses()
    {
        await Admin.PostJsonAsync("dags", """
            {"name":"form_dag","params":{"limit":5},
             "params_schema":{"type":"object","required":["region"],"properties":{
               "region":{"type":"string","enum":["eu","us"],"description":"Where the data lives"},
               "limit":{"type":"integer","maximum":10,"title":"Row limit"},
               "dry":{"type":"boolean","default":false},
               "tables":{"type":"array","items":{"type":"string"},"default":["a"]},
               "note":{"type":"string"}}},
             "tasks":[{"id":"t","type":"shell","command":"echo region={{ params.region }} limit={{ params.limit }} dry={{ params.dry }} first={{ params.tables[0] }}"}]}
            """).ExpectAsync(HttpStatusCode.Created);
        var page = await SignInAsync(ServerFixture.AdminUser, ServerFixture.AdminPassword);
        await page.GotoAsync("/admin/dags/form_dag");
        await page.GetByTestId("trigger-open").ClickAsync();
        var form = page.GetByTestId("params-form");
        await Expect(form).ToBeVisibleAsync();
        var region = page.GetByLabel("region *");
        await Expect(region.Locator("option")).ToHaveTextAsync(["(unset)", "eu", "us"]);
        await Expect(form).ToContainTextAsync("Where the data lives");
        var limit = page.GetByLabel("Row limit");
        await Expect(limit).ToHaveAttributeAsync("type", "number");
        await Expect(limit).ToHaveValueAsync("5");
        await Expect(page.GetByLabel("dry")).ToHaveValueAsync("false");
        await Expect(page.GetByLabel("tables")).ToHaveValueAsync("[\"a\"]");
        await Browser.ScreenshotAsync(page, "20-trigger-form-from-params-schema");

        // Over the schema's maximum: refused by the same rule as the API, keyed by path.
        await region.SelectOptionAsync(new SelectOptionValue { Label = "us" });
        await limit.FillAsync("11");
        await page.GetByTestId("trigger").ClickAsync();
        await Expect(page.Locator(".flash.error")).ToContainTextAsync("conf.limit");
        Assert.Equal(0, (await Viewer.GetAsync("dags/form_dag/runs").ExpectAsync(HttpStatusCode.OK)).GetProperty("items").GetArrayLength());

        await page.GetByTestId("trigger-open").ClickAsync();
        await page.GetByLabel("region *").SelectOptionAsync(new SelectOptionValue { Label = "us" });
        await page.GetByLabel("Row limit").FillAsync("7");
        await page.GetByLabel("dry").SelectOptionAsync(new SelectOptionValue { Label = "true" });
        await page.GetByLabel("tables").FillAsync("[\"orders\", \"items\"]");
        await page.GetByTestId("trigger").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/admin/runs/\\d+$"));
        await Expect(page.GetByTestId("run-state")).ToHaveTextAsync("success", new() { Timeout = 30_000 });
        var runId = long.Parse(page.Url[(page.Url.LastIndexOf('/') + 1)..]);
        var run = await Viewer.GetAsync($"runs/{runId}").ExpectAsync(HttpStatusCode.OK);
        var conf = run.GetProperty("conf");
        Assert.Equal("us", conf.GetProperty("region").GetString());
        Assert.Equal(7, conf.GetProperty("limit").GetInt32());
        Assert.True(conf.GetProperty("dry").GetBoolean());
        Assert.False(conf.TryGetProperty("note", out _));
        var log = await (await Viewer.GetAsync($"runs/{runId}/tasks/t/logs")).Content.ReadAsStringAsync();
        Assert.Contains("region=us limit=7 dry=true first=orders", log);
    }

    [Fact]
    public async Task VariablesPage_SavesPlainAndSecretValues_AndNeverShowsTheSecret()
    {
        var page = await SignInAsync(ServerFixture.AdminUser, ServerFixture.AdminPassword);
        await page.GetByRole(AriaRole.Link, new() { Name = "Variables" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Variables" })).ToBeVisibleAsync();

        await page.GetByLabel("Name").FillAsync("bad name!");
        await page.GetByLabel("Value (JSON; plain text is a string)").FillAsync("1");
        await page.GetByTestId("save-variable").ClickAsync();
        await Expect(page.Locator("#errors li")).ToContainTextAsync("'name' must match");

        await page.GetByLabel("Name").FillAsync("regions");
        await page.GetByLabel("Value (JSON; plain text is a string)").FillAsync("""["eu", "us"]""");
        await page.GetByLabel("Description").FillAsync("where we sell");
        await page.GetByTestId("save-variable").ClickAsync();
        await Expect(page.Locator(".flash")).ToContainTextAsync("Saved variable regions");

        await page.GetByLabel("Name").FillAsync("api_token");
        await page.GetByLabel("Value (JSON; plain text is a string)").FillAsync("tok-very-secret-4711");
        await page.GetByLabel("Secret (write-only, masked in logs)").CheckAsync();
        await page.GetByTestId("save-variable").ClickAsync();
        await Expect(page.Locator("tr[data-variable='api_token'] [data-testid=secret]")).ToBeVisibleAsync();
        await Expect(page.Locator("tr[data-variable='regions'] [data-testid=value]")).ToHaveTextAsync("[\"eu\",\"us\"]");
        Assert.DoesNotContain("tok-very-secret-4711", await page.ContentAsync());
        await Browser.ScreenshotAsync(page, "21-variables");

        var regions = await Viewer.GetAsync("variables/regions").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("where we sell", regions.GetProperty("description").GetString());
        Assert.Equal(2, regions.GetProperty("value").GetArrayLength());
        var token = await Viewer.GetAsync("variables/api_token").ExpectAsync(HttpStatusCode.OK);
        Assert.True(token.GetProperty("secret").GetBoolean());
        Assert.False(token.TryGetProperty("value", out var value) && value.ValueKind != System.Text.Json.JsonValueKind.Null);

        await page.Locator("tr[data-variable='regions']").GetByTestId("delete-variable").ClickAsync();
        await Expect(page.Locator("tr[data-variable='regions']")).ToHaveCountAsync(0);
        await Viewer.GetAsync("variables/regions").ExpectProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task BackfillPage_ShowsTheDryRun_ThenStartsExactlyThoseDates()
    {
        await Admin.PostJsonAsync("dags", """
            {"name":"history_dag","cron":"0 6 * * *","paused":true,"tasks":[{"id":"a"}]}
            """).ExpectAsync(HttpStatusCode.Created);
        var page = await SignInAsync(ServerFixture.AdminUser, ServerFixture.AdminPassword);
        await page.GotoAsync("/admin/dags/history_dag");
        await page.GetByTestId("backfill-link").ClickAsync();
        await page.GetByLabel("From (instant, e.g. 2026-01-01T00:00:00Z)").FillAsync("2026-03-01T00:00:00Z");
        await page.GetByLabel("To", new() { Exact = true }).FillAsync("2026-03-04T23:00:00Z");
        await page.GetByTestId("backfill-preview").ClickAsync();
        var dry = page.GetByTestId("backfill-dry-run");
        await Expect(dry).ToContainTextAsync("Dry run: 4 logical date(s)");
        await Expect(dry.Locator("li")).ToHaveTextAsync(["2026-03-01 06:00:00Z", "2026-03-02 06:00:00Z", "2026-03-03 06:00:00Z", "2026-03-04 06:00:00Z"]);
        // Nothing exists before the start.
        Assert.Equal(0, (await Viewer.GetAsync("dags/history_dag/runs").ExpectAsync(HttpStatusCode.OK)).GetProperty("items").GetArrayLength());
        await Browser.ScreenshotAsync(page, "22-backfill-dry-run");

        await page.GetByTestId("backfill-start").ClickAsync();
        await Expect(page.GetByTestId("backfills").Locator("tbody tr")).ToHaveCountAsync(1);
        var backfills = (await Viewer.GetAsync("dags/history_dag/backfills").ExpectAsync(HttpStatusCode.OK)).GetProperty("items");
        Assert.Equal(4, backfills[0].GetProperty("total").GetInt32());
        var runs = (await Viewer.GetAsync("dags/history_dag/runs").ExpectAsync(HttpStatusCode.OK)).GetProperty("items").EnumerateArray()
            .Select(r => r.GetProperty("logical_date").GetDateTimeOffset().UtcDateTime.Day).Order().ToArray();
        Assert.Equal([1, 2, 3, 4], runs);
        await Browser.ScreenshotAsync(page, "23-backfill-started");
    }
}
