using System.Net;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Platform;

/// <summary>A worker-only replica (Api:Enabled=false): health and metrics answer, the REST API and the admin pages do not exist.</summary>
public sealed class WorkerOnlyReplicaTests(ServerFixture server) : ServerTest(server)
{
    [Fact]
    public async Task ApiDisabled_ServesHealthAndMetrics_ButNoApiAndNoPages()
    {
        await using var replica = new ExtraServer(new Dictionary<string, string?> { ["Api:Enabled"] = "false", ["Metrics:Enabled"] = "true" });
        using var http = new HttpClient { BaseAddress = replica.BaseAddress };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/metrics")).StatusCode);
        using var api = replica.NewClient(ServerFixture.BootstrapKey);
        Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync("dags")).StatusCode);
        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = replica.BaseAddress };
        var page = await browser.GetAsync("/admin/login");
        Assert.NotEqual(HttpStatusCode.OK, page.StatusCode);
        Assert.DoesNotContain("Sign in", await page.Content.ReadAsStringAsync());
        // The fixture's server, with the API on, answers the same request.
        await Admin.GetAsync("dags").ExpectAsync(HttpStatusCode.OK);
    }
}
