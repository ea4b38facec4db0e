using System.Net;
using System.Text.Json;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Assets;

/// <summary>
/// Two real server processes on one database, events posted to both at once: every event is
/// consumed by exactly one asset run of each consumer, whichever replica recorded it.
/// </summary>
public sealed class AssetReplicaTests : IAsyncLifetime
{
    private const string Key = "sk_asset_replica_admin_key_0123456789";
    private const string Orders = "s3://lake/orders";
    private const string Prices = "s3://lake/prices";
    private readonly ServerProcesses _servers = new();
    private string _connection = "";

    public async Task InitializeAsync() => _connection = await TestDatabase.CreateFreshAsync("asset_replicas");

    public Task DisposeAsync()
    {
        _servers.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task EventsPostedToTwoReplicasAtOnce_AreEachConsumedExactlyOnce()
    {
        var settings = new Dictionary<string, string> { ["Workers__Slots"] = "2" };
        var (_, a) = await _servers.StartAsync(_connection, Key, settings);
        var (_, b) = await _servers.StartAsync(_connection, Key, settings);
        await a.PutConsumerAsync("single", [Orders]);
        await a.PutConsumerAsync("pair", [Orders, Prices]);

        var posted = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => (i % 2 == 0 ? a : b).PostEventAsync(i % 4 < 2 ? Orders : Prices)));
        // A last event of each asset after the storm, so every event ends up consumed by both
        // DAGs. "pair" is paused meanwhile: a scan between the two would let it consume the
        // last orders event alone, and the last prices event would then wait for another.
        await a.PostAsync("dags/pair/pause", null).ExpectAsync(HttpStatusCode.OK);
        var last = new[] { await b.PostEventAsync(Orders), await a.PostEventAsync(Prices) };
        await b.PostAsync("dags/pair/unpause", null).ExpectAsync(HttpStatusCode.OK);
        var all = posted.Concat(last).ToHashSet();
        var orders = (await a.GetAsync("assets/events?uri=" + Uri.EscapeDataString(Orders) + "&limit=500").ExpectAsync(HttpStatusCode.OK))
            .GetProperty("items").EnumerateArray().Select(e => e.GetProperty("id").GetInt64()).ToHashSet();

        await WaitForConsumedAsync(a, "single", orders);
        await WaitForConsumedAsync(a, "pair", all);
        await Task.Delay(1500);
        // Nothing more afterwards: no run was created twice, none consumed an event again.
        var single = await a.AssetRunsAsync("single");
        Assert.Equal(orders.Order(), single.SelectMany(AssetHelpers.ConsumedIds).Order());
        var pair = await b.AssetRunsAsync("pair");
        Assert.Equal(all.Order(), pair.SelectMany(AssetHelpers.ConsumedIds).Order());
        Assert.All(pair, run => Assert.Equal(2, run.GetProperty("conf").GetProperty("asset_events").EnumerateArray().Select(e => e.GetProperty("uri").GetString()).Distinct().Count()));
    }

    /// <summary>Waits until the DAG's asset runs have consumed (at least) these events; fails on one consumed twice.</summary>
    private static async Task WaitForConsumedAsync(HttpClient client, string dag, IReadOnlySet<long> events)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var consumed = (await client.AssetRunsAsync(dag)).SelectMany(AssetHelpers.ConsumedIds).ToList();
            Assert.Equal(consumed.Count, consumed.Distinct().Count());
            if (events.IsSubsetOf(consumed))
                return;
            if (clock.Elapsed > TimeSpan.FromSeconds(30))
                throw new TimeoutException($"{dag} consumed {consumed.Count} of {events.Count} events: {JsonSerializer.Serialize(consumed)}");
            await Task.Delay(100);
        }
    }
}
