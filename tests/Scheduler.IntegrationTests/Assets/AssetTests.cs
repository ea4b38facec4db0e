using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Assets;

/// <summary>Asset-triggered DAGs over HTTP: outlets, schedule_on_assets, posted events, the asset list.</summary>
public sealed class AssetTests(ServerFixture server, Xunit.Abstractions.ITestOutputHelper output) : ServerTest(server)
{
    private const string Orders = "s3://lake/orders";
    private const string Prices = "postgres://warehouse/public/prices";

    [Fact]
    public async Task ProducerSuccess_TriggersTheConsumer_WithTheEventAndItsSource()
    {
        await Admin.PutProducerAsync("load-orders", "load", [Orders]);
        await Admin.PutConsumerAsync("report", [Orders]);
        var producerRun = await Operator.TriggerAsync("load-orders");
        var done = await Viewer.WaitForRunAsync(producerRun);
        Assert.Equal("success", done.GetProperty("state").GetString());
        var finished = DateTimeOffset.Parse(done.GetProperty("finished_at").GetString()!);

        var runs = await Viewer.WaitForAssetRunsAsync("report", 1);
        var run = Assert.Single(runs);
        var events = run.GetProperty("conf").GetProperty("asset_events").EnumerateArray().ToList();
        var e = Assert.Single(events);
        Assert.Equal(Orders, e.GetProperty("uri").GetString());
        Assert.Equal("load-orders", e.GetProperty("source_dag").GetString());
        Assert.Equal(producerRun, e.GetProperty("source_run_id").GetInt64());
        Assert.Equal("load", e.GetProperty("source_task_id").GetString());
        Assert.Equal(1, run.GetProperty("conf").GetProperty("asset_event_count").GetInt32());
        // Prompt: the commit's NOTIFY wakes the loop (no poll interval to wait for).
        var created = DateTimeOffset.Parse(run.GetProperty("queued_at").GetString()!);
        output.WriteLine($"asset run queued {(created - finished).TotalMilliseconds:F0} ms after the producer run finished");
        Assert.True(created - finished < TimeSpan.FromSeconds(3), $"asset run created {(created - finished).TotalMilliseconds} ms after the producer finished");
        Assert.Equal("success", (await Viewer.WaitForRunAsync(run.GetProperty("run_id").GetInt64())).GetProperty("state").GetString());

        // The event is listed with its source; one success, one event, one run.
        var listed = await Viewer.GetAsync($"assets/events?uri={Uri.EscapeDataString(Orders)}").ExpectAsync(HttpStatusCode.OK);
        var item = Assert.Single(listed.GetProperty("items").EnumerateArray());
        Assert.Equal(e.GetProperty("id").GetInt64(), item.GetProperty("id").GetInt64());
        Assert.Equal(producerRun, item.GetProperty("source_run_id").GetInt64());
        await Task.Delay(1000);
        Assert.Single(await Viewer.AssetRunsAsync("report"));
    }

    [Fact]
    public async Task TwoAssets_TheRunWaitsForBoth_AndConsumesEveryEventOnce()
    {
        await Admin.PutConsumerAsync("join", [Orders, Prices]);
        var first = await Operator.PostEventAsync(Orders);
        var second = await Operator.PostEventAsync(Orders, """{"rows":10}""");
        await Task.Delay(1500);
        Assert.Empty(await Viewer.AssetRunsAsync("join"));

        var posted = Stopwatch.StartNew();
        var third = await Operator.PostEventAsync(Prices);
        var run = Assert.Single(await Viewer.WaitForAssetRunsAsync("join", 1));
        var eventAt = DateTimeOffset.Parse(run.GetProperty("conf").GetProperty("asset_events")[2].GetProperty("created_at").GetString()!);
        var queuedAt = DateTimeOffset.Parse(run.GetProperty("queued_at").GetString()!);
        output.WriteLine($"asset run queued {(queuedAt - eventAt).TotalMilliseconds:F0} ms after the event was recorded; seen by polling {posted.ElapsedMilliseconds} ms after POST /assets/events was sent");
        Assert.True(queuedAt - eventAt < TimeSpan.FromSeconds(3));
        Assert.Equal([first, second, third], AssetHelpers.ConsumedIds(run));
        Assert.Equal(3, run.GetProperty("conf").GetProperty("asset_event_count").GetInt32());
        Assert.Equal(10, run.GetProperty("conf").GetProperty("asset_events")[1].GetProperty("extra").GetProperty("rows").GetInt32());

        // Prices again is not enough: orders has nothing new since that run.
        var fourth = await Operator.PostEventAsync(Prices);
        await Task.Delay(1500);
        Assert.Single(await Viewer.AssetRunsAsync("join"));
        var fifth = await Operator.PostEventAsync(Orders);
        var runs = await Viewer.WaitForAssetRunsAsync("join", 2);
        Assert.Equal(2, runs.Count);
        Assert.Equal([fourth, fifth], AssetHelpers.ConsumedIds(runs[1]));
    }

    [Fact]
    public async Task PausedConsumer_Accumulates_AndFiresOnceOnUnpause()
    {
        await Admin.PutConsumerAsync("nightly", [Orders], paused: true);
        var ids = new List<long>();
        for (var i = 0; i < 3; i++)
            ids.Add(await Operator.PostEventAsync(Orders));
        await Task.Delay(1500);
        Assert.Empty(await Viewer.AssetRunsAsync("nightly"));

        await Operator.PostAsync("dags/nightly/unpause", null).ExpectAsync(HttpStatusCode.OK);
        var run = Assert.Single(await Viewer.WaitForAssetRunsAsync("nightly", 1));
        Assert.Equal(ids, AssetHelpers.ConsumedIds(run));
        await Task.Delay(1000);
        Assert.Single(await Viewer.AssetRunsAsync("nightly"));
    }

    [Fact]
    public async Task NewConsumer_IgnoresEventsFromBeforeItExisted()
    {
        await Operator.PostEventAsync(Orders);
        await Task.Delay(20);
        await Admin.PutConsumerAsync("late", [Orders]);
        await Task.Delay(1500);
        Assert.Empty(await Viewer.AssetRunsAsync("late"));
        var id = await Operator.PostEventAsync(Orders);
        Assert.Equal([id], AssetHelpers.ConsumedIds(Assert.Single(await Viewer.WaitForAssetRunsAsync("late", 1))));
    }

    [Fact]
    public async Task ExternalEvent_IsAudited_AndTheAssetListShowsProducersConsumersAndTheLastEvent()
    {
        await Admin.PutProducerAsync("load-orders", "load", [Orders]);
        await Admin.PutConsumerAsync("report", [Orders, Prices]);
        var posted = await Operator.PostJsonAsync("assets/events", $$$"""{"uri":"{{{Orders}}}","extra":{"source":"crm"}}""").ExpectAsync(HttpStatusCode.Created);
        Assert.Equal("crm", posted.GetProperty("extra").GetProperty("source").GetString());
        Assert.Equal(JsonValueKind.Null, posted.GetProperty("source_dag").ValueKind);

        var audit = await Admin.GetAsync("audit?action=asset.event").ExpectAsync(HttpStatusCode.OK);
        var entry = Assert.Single(audit.GetProperty("items").EnumerateArray());
        Assert.Equal("asset/" + Orders, entry.GetProperty("target").GetString());
        Assert.Equal(posted.GetProperty("id").GetInt64(), entry.GetProperty("details").GetProperty("event_id").GetInt64());

        var assets = (await Viewer.GetAsync("assets").ExpectAsync(HttpStatusCode.OK)).GetProperty("items").EnumerateArray().ToList();
        Assert.Equal([Prices, Orders], assets.Select(a => a.GetProperty("uri").GetString()).ToList());
        var orders = assets[1];
        Assert.Equal("load-orders", Assert.Single(orders.GetProperty("producers").EnumerateArray()).GetProperty("dag").GetString());
        Assert.Equal("report", Assert.Single(orders.GetProperty("consumers").EnumerateArray()).GetProperty("dag").GetString());
        Assert.Equal(1, orders.GetProperty("event_count").GetInt64());
        Assert.Equal(posted.GetProperty("id").GetInt64(), orders.GetProperty("last_event").GetProperty("id").GetInt64());
        Assert.Equal(JsonValueKind.Null, assets[0].GetProperty("last_event").ValueKind);

        // Paged by URI.
        var page = await Viewer.GetAsync("assets?limit=1").ExpectAsync(HttpStatusCode.OK);
        var next = page.GetProperty("next_cursor").GetString();
        var rest = await Viewer.GetAsync($"assets?limit=1&cursor={next}").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal(Orders, Assert.Single(rest.GetProperty("items").EnumerateArray()).GetProperty("uri").GetString());
    }

    [Fact]
    public async Task Roles_ViewerReads_OperatorPosts()
    {
        await Viewer.PostJsonAsync("assets/events", $$"""{"uri":"{{Orders}}"}""").ExpectProblemAsync(HttpStatusCode.Forbidden);
        await Anonymous.GetAsync("assets").ExpectProblemAsync(HttpStatusCode.Unauthorized);
        await Operator.PostEventAsync(Orders);
        await Viewer.GetAsync("assets/events").ExpectAsync(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("""{"extra":{}}""", "uri")]
    [InlineData("""{"uri":"not a uri"}""", "uri")]
    [InlineData("""{"uri":"orders"}""", "uri")]
    [InlineData("""{"uri":""}""", "uri")]
    public async Task BadEvent_IsA400_KeyedByField(string body, string key)
    {
        var problem = await Operator.PostJsonAsync("assets/events", body).ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(problem.Errors(key));
    }

    [Fact]
    public async Task BadAssetFields_AreA400_KeyedByPath()
    {
        var problem = await Admin.PutJsonAsync("dags/bad", """{"schedule_on_assets":["s3://a","s3://a"],"tasks":[{"id":"t","outlets":["no scheme"]}]}""")
            .ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("listed twice", problem.Errors("schedule_on_assets[1]")[0]);
        Assert.NotEmpty(problem.Errors("tasks[0].outlets[0]"));
        await Viewer.GetAsync("assets/events?uri=nope").ExpectProblemAsync(HttpStatusCode.BadRequest);
        await Viewer.GetAsync("assets/events?cursor=%%%").ExpectProblemAsync(HttpStatusCode.BadRequest);
        await Operator.PostJsonAsync("assets/events", $$$"""{"uri":"s3://x","extra":{"big":"{{{new string('x', 70_000)}}}"}}""").ExpectProblemAsync(HttpStatusCode.BadRequest);
    }

    /// <summary>
    /// The guard, not the leader lock, makes a condition fire once: scans racing in one process
    /// (as two leaders for a moment would) still create one run per satisfied condition.
    /// </summary>
    [Fact]
    public async Task RacingScans_CreateOneRunPerCondition()
    {
        await Admin.PutConsumerAsync("raced", [Orders, Prices], paused: true);
        await Operator.PostEventAsync(Orders);
        await Operator.PostEventAsync(Prices);
        // Unpaused directly in the database so the loop is not woken before the racing scans start.
        await using (var scope = Server.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<Npgsql.NpgsqlDataSource>();
            await using var cmd = db.CreateCommand("update dags.dags set paused = false where name = 'raced'");
            await cmd.ExecuteNonQueryAsync();
        }
        var scans = Enumerable.Range(0, 6).Select(async _ =>
        {
            await using var scope = Server.Services.CreateAsyncScope();
            return await scope.ServiceProvider.GetRequiredService<Mediator.ISender>().Send(new Scheduler.Modules.Runs.Assets.ScheduleAssetRuns.Command());
        }).ToList();
        await Task.WhenAll(scans);
        await Task.Delay(500);
        Assert.Single(await Viewer.AssetRunsAsync("raced"));
    }
}
