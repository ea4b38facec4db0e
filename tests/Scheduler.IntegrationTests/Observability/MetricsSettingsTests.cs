using System.Net;
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

    public void Dispose() => _servers.Dispose();
}
