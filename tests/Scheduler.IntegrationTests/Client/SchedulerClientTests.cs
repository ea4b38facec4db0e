using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Scheduler.Client;
using Scheduler.Client.Api;
using Scheduler.Client.Builder;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Client;

/// <summary>src/Scheduler.Client against the real server: typed calls, builder output, retries.</summary>
public sealed class SchedulerClientTests(ServerFixture server) : ServerTest(server)
{
    private SchedulerClient NewClient(string key = ServerFixture.BootstrapKey) => SchedulerClient.Create(Server.BaseAddress, key);

    public static TheoryData<string> Shapes() => ["single", "chain", "fan", "everything"];

    private static DagBuilder Shape(string shape) => shape switch
    {
        "single" => Dag.Named("single").Task("only"),
        "chain" => Dag.Named("chain").Cron("0 9 * * *").Timezone("Europe/Berlin")
            .Task("fetch", t => t.Http(new Uri("http://127.0.0.1:9/data")))
            .Task("transform", t => t.DependsOn("fetch"))
            .Task("load", t => t.DependsOn("transform").Shell("echo loaded")),
        "fan" => Dag.Named("fan").Interval(TimeSpan.FromHours(1))
            .Task("start")
            .Task("a", t => t.DependsOn("start")).Task("b", t => t.DependsOn("start")).Task("c", t => t.DependsOn("start"))
            .Task("join", t => t.DependsOn("a", "b", "c").TriggerRule("all_done")),
        _ => Dag.Named("everything").Description("all the builder knows").Owner("data").Tags("etl", "daily")
            .Cron("@daily").Catchup(false).MaxActiveRuns(2).MaxActiveTasks(4).Paused()
            .StartDate(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero)).Param("region", "eu")
            .Task("call", t => t.Http(new Uri("https://127.0.0.1:9/x"), "POST", new JsonObject { ["a"] = 1 }, new Dictionary<string, string> { ["X-T"] = "1" }, 200, 201)
                .Retries(3, TimeSpan.FromSeconds(10), "exponential").Timeout(TimeSpan.FromMinutes(5)).Priority(5))
            .Task("query", t => t.DependsOn("call").Sql("warehouse", "select 1"))
            .Task("script", t => t.DependsOn("query").Shell("echo $X", new Dictionary<string, string> { ["X"] = "y" }).Pool("default")),
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public async Task BuilderOutput_IsAcceptedByValidate(string shape)
    {
        using var client = NewClient();
        var builder = Shape(shape);
        var result = await client.ValidateDagAsync(builder);
        Assert.True(result.Valid);
        Assert.Equal(builder.ToJson()["tasks"]!.AsArray().Count, result.Task_count);
    }

    [Fact]
    public async Task TypedCalls_DeployTriggerAndRead()
    {
        using var client = NewClient();
        var dag = Dag.Named("typed").Task("hello", t => t.Shell("echo hello from the client")).Task("after", t => t.DependsOn("hello"));
        var applied = await client.ApplyDagAsync(dag);
        Assert.True(applied.Created);
        Assert.Equal(1, applied.Dag.Version);
        var again = await client.ApplyDagAsync(dag);
        Assert.False(again.Created);
        Assert.Equal(applied.Dag.Hash, again.Dag.Hash);
        Assert.Equal(1, again.Dag.Version);

        var page = await client.Api.ListDagsAsync();
        Assert.Contains(page.Items, d => d.Name == "typed" && d.Task_count == 2);
        var details = await client.Api.GetDagAsync("typed");
        Assert.Equal(2, details.Definition.Tasks!.Count);

        var run = await client.Api.TriggerDagRunAsync("typed", new TriggerDagRunRequest());
        Assert.Equal("typed", run.Dag_name);
        var finished = await WaitAsync(client, run.Run_id);
        Assert.Equal("success", finished.State);
        Assert.All(finished.Tasks, t => Assert.Equal("success", t.State));
        var log = await client.Api.GetTaskLogAsync(run.Run_id, "hello");
        Assert.Contains("hello from the client", log);
        var runs = await client.Api.ListDagRunsAsync("typed");
        Assert.Single(runs.Items);

        var paused = await client.Api.PauseDagAsync("typed");
        Assert.True(paused.Paused);
        var versions = await client.Api.ListDagVersionsAsync("typed");
        Assert.Single(versions.Items);
    }

    [Fact]
    public async Task Errors_AreTypedProblems()
    {
        using var client = NewClient();
        var missing = await Assert.ThrowsAsync<SchedulerApiException<ProblemDetails>>(() => client.Api.GetDagAsync("nope"));
        Assert.Equal(404, missing.StatusCode);
        Assert.Contains("nope", missing.Result.Detail);

        var invalid = new JsonObject { ["name"] = "bad", ["tasks"] = new JsonArray(new JsonObject { ["id"] = "a", ["depends_on"] = new JsonArray("ghost") }) };
        var refused = await Assert.ThrowsAsync<SchedulerApiException>(() => client.ApplyDagAsync(invalid));
        Assert.Equal(400, refused.StatusCode);
        Assert.Contains("ghost", refused.Message);

        using var viewer = NewClient(await Server.CreateKeyAsync("client-viewer", "viewer"));
        var forbidden = await Assert.ThrowsAsync<SchedulerApiException>(() => viewer.ApplyDagAsync(Dag.Named("x").Task("a")));
        Assert.Equal(403, forbidden.StatusCode);
    }

    [Theory]
    [InlineData(HttpStatusCode.ServiceUnavailable)]
    [InlineData(HttpStatusCode.TooManyRequests)]
    public async Task Answers429And503_AreRetried(HttpStatusCode status)
    {
        var flaky = new FailingFirst(2, status);
        using var http = SchedulerHttp.Create(Server.BaseAddress, ServerFixture.BootstrapKey, new SchedulerClientOptions { RetryDelay = TimeSpan.FromMilliseconds(10) }, flaky);
        using var client = new SchedulerClient(http);
        var applied = await client.ApplyDagAsync(Dag.Named("retried").Task("a"));
        Assert.True(applied.Created);
        Assert.Equal(3, flaky.Requests);

        // A 400 is the caller's mistake: never retried.
        var counting = new FailingFirst(0, status);
        using var http2 = SchedulerHttp.Create(Server.BaseAddress, ServerFixture.BootstrapKey, new SchedulerClientOptions { RetryDelay = TimeSpan.FromMilliseconds(10) }, counting);
        await Assert.ThrowsAsync<SchedulerApiException>(() => new SchedulerClient(http2).ApplyDagAsync(new JsonObject { ["name"] = "bad", ["tasks"] = new JsonArray() }));
        Assert.Equal(1, counting.Requests);
    }

    [Fact]
    public async Task HttpClientFactoryRegistration_Works()
    {
        var services = new ServiceCollection();
        services.AddSchedulerClient(Server.BaseAddress, ServerFixture.BootstrapKey);
        await using var provider = services.BuildServiceProvider();
        var api = provider.GetRequiredService<ISchedulerApi>();
        await provider.GetRequiredService<SchedulerClient>().ApplyDagAsync(Dag.Named("from_di").Task("a"));
        Assert.Equal("from_di", (await api.GetDagAsync("from_di")).Name);
    }

    private static async Task<RunDetails> WaitAsync(SchedulerClient client, long runId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var run = await client.Api.GetRunAsync(runId);
            if (run.State is "success" or "failed" or "cancelled" || DateTime.UtcNow > deadline)
                return run;
            await Task.Delay(100);
        }
    }

    /// <summary>Answers the first <c>failures</c> requests with <c>status</c> itself, then passes requests on to the real server.</summary>
    private sealed class FailingFirst(int failures, HttpStatusCode status) : DelegatingHandler(new SocketsHttpHandler())
    {
        private int _requests;

        public int Requests => _requests;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref _requests) <= failures)
                return new HttpResponseMessage(status) { Headers = { RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.Zero) } };
            return await base.SendAsync(request, cancellationToken);
        }
    }
}
