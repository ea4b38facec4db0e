using System.Net;
using Scheduler.IntegrationTests.Access;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Observability;

/// <summary>
/// The metrics settings on real server processes beside the test server, on its database,
/// with neither workers nor the scheduler loop (the test server does that work):
/// <c>Metrics:Path</c> and <c>Metrics:PerDagLabels</c> on one, <c>Metrics:Enabled=false</c> on another.
/// </summary>
public sealed class MetricsSettingsTests(ServerFixture server) : ServerTest(server), IDisposable
{
    private readonly ServerProcesses _servers = new();

    private static Dictionary<string, string> Settings(params (string Key, string Value)[] extra)
    {
        var settings = new Dictionary<string, string>
        {
            ["Workers__Enabled"] = "false",
            ["Scheduler__Enabled"] = "false",
            ["Notifications__RunDeliveryServer"] = "false",
        };
        foreach (var (key, value) in extra)
            settings[key] = value;
        return settings;
    }

    [Fact]
    public async Task Path_PerDagLabels_AndDisabled_AreHonoured()
    {
        var moved = _servers.StartAsync(TestDatabase.ConnectionString, ServerFixture.BootstrapKey,
            Settings(("Metrics__Path", "internal/metrics"), ("Metrics__PerDagLabels", "true")));
        var off = _servers.StartAsync(TestDatabase.ConnectionString, ServerFixture.BootstrapKey, Settings(("Metrics__Enabled", "false")));
        var (_, movedClient) = await moved;
        var (_, offClient) = await off;
        await Admin.PostJsonAsync("dags", """{"name":"per_dag","tasks":[{"id":"a"}]}""").ExpectAsync(HttpStatusCode.Created);
        // The run is created by the process that took the trigger: its counter carries the DAG.
        await Admin.WaitForRunAsync(await movedClient.TriggerAsync("per_dag"));

        using var anonymous = new HttpClient { BaseAddress = new Uri(movedClient.BaseAddress!, "/") };
        var scrape = await MetricsScrape.GetAsync(anonymous, "/internal/metrics");
        Assert.Equal(1, scrape.Sum("scheduler_runs_created_total", ("dag", "per_dag"), ("run_type", "manual")));
        Assert.True(scrape.Has("scheduler_task_instances"));
        using (var old = await anonymous.GetAsync("/metrics"))
            Assert.NotEqual(HttpStatusCode.OK, old.StatusCode);

        using var offAnonymous = new HttpClient { BaseAddress = new Uri(offClient.BaseAddress!, "/") };
        using (var none = await offAnonymous.GetAsync("/metrics"))
            Assert.NotEqual(HttpStatusCode.OK, none.StatusCode);
        await offAnonymous.GetAsync("/health/ready").ExpectAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task TeamOnlyKeys_SeeTheirTeamsDagSeriesOnly_AndAnonymousCanBeRefused()
    {
        var (_, process) = await _servers.StartAsync(TestDatabase.ConnectionString, ServerFixture.BootstrapKey,
            Settings(("Metrics__PerDagLabels", "true"), ("Metrics__AllowAnonymous", "false")));
        await Server.CreateTeamDagsAsync("true", ("ma", "ma_dag"), ("mb", "mb_dag"));
        foreach (var dag in (string[])["ma_dag", "mb_dag"])
            await Admin.WaitForRunAsync(await process.TriggerAsync(dag));
        var teamKey = await KeyAsync(new { name = "ma-scraper", roles = new Dictionary<string, string> { ["ma"] = "viewer" } });
        var globalKey = await KeyAsync(new { name = "prometheus", role = "viewer" });
        HttpClient Scraper(string? header, string? value)
        {
            var client = new HttpClient { BaseAddress = new Uri(process.BaseAddress!, "/") };
            if (header is not null)
                client.DefaultRequestHeaders.TryAddWithoutValidation(header, value);
            return client;
        }

        using (var anonymous = Scraper(null, null))
            await anonymous.GetAsync("/metrics").ExpectProblemAsync(HttpStatusCode.Unauthorized);
        using (var wrong = Scraper("Authorization", "Bearer sk_not_a_key"))
            await wrong.GetAsync("/metrics").ExpectProblemAsync(HttpStatusCode.Unauthorized);

        foreach (var (header, value) in new[] { ("X-Api-Key", teamKey), ("Authorization", "Bearer " + teamKey) })
        {
            using var team = Scraper(header, value);
            var scrape = await MetricsScrape.GetAsync(team);
            Assert.Equal(1, scrape.Sum("scheduler_runs_created_total", ("dag", "ma_dag"), ("run_type", "manual")));
            Assert.DoesNotContain("mb_dag", scrape.Text);
            // Nothing of the cluster or the process: every sample names one of the team's DAGs.
            Assert.NotEmpty(scrape.Samples);
            Assert.All(scrape.Samples, s => Assert.Equal("ma_dag", s.Labels.GetValueOrDefault("dag")));
            Assert.Contains("# TYPE scheduler_runs_created_total counter", scrape.Text);
            Assert.DoesNotContain("# TYPE process_", scrape.Text);
        }

        using var global = Scraper("Authorization", "Bearer " + globalKey);
        var all = await MetricsScrape.GetAsync(global);
        Assert.Equal(1, all.Sum("scheduler_runs_created_total", ("dag", "mb_dag"), ("run_type", "manual")));
        Assert.Equal(1, all.Sum("scheduler_runs_created_total", ("dag", "ma_dag"), ("run_type", "manual")));
        Assert.True(all.Has("scheduler_task_instances"));
    }

    private async Task<string> KeyAsync(object body) =>
        (await Admin.PostJsonAsync("api-keys", body).ExpectAsync(HttpStatusCode.Created)).GetProperty("key").GetString()!;

    public void Dispose() => _servers.Dispose();
}
