using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Assets;

/// <summary>Requests the asset tests share: DAGs that produce and consume assets, events, asset runs.</summary>
public static class AssetHelpers
{
    public static Task<JsonElement> PutConsumerAsync(this HttpClient admin, string name, string[] uris, bool paused = false) =>
        admin.PutJsonAsync($"dags/{name}", $$"""{"schedule_on_assets":{{JsonSerializer.Serialize(uris)}},"paused":{{(paused ? "true" : "false")}},"tasks":[{"id":"use"}]}""")
            .ExpectOneOfAsync(HttpStatusCode.Created, HttpStatusCode.OK);

    public static Task<JsonElement> PutProducerAsync(this HttpClient admin, string name, string task, string[] outlets) =>
        admin.PutJsonAsync($"dags/{name}", $$"""{"tasks":[{"id":"{{task}}","outlets":{{JsonSerializer.Serialize(outlets)}}}]}""")
            .ExpectOneOfAsync(HttpStatusCode.Created, HttpStatusCode.OK);

    public static async Task<long> PostEventAsync(this HttpClient client, string uri, string extra = "{}") =>
        (await client.PostJsonAsync("assets/events", $$"""{"uri":{{JsonSerializer.Serialize(uri)}},"extra":{{extra}}}""").ExpectAsync(HttpStatusCode.Created))
            .GetProperty("id").GetInt64();

    /// <summary>The DAG's asset runs, oldest first, each with its detail (conf included).</summary>
    public static async Task<List<JsonElement>> AssetRunsAsync(this HttpClient client, string dag)
    {
        var list = await client.GetAsync($"dags/{dag}/runs?limit=500").ExpectAsync(HttpStatusCode.OK);
        var runs = new List<JsonElement>();
        foreach (var run in list.GetProperty("items").EnumerateArray().Where(r => r.GetProperty("run_type").GetString() == "asset"))
            runs.Add(await client.GetAsync($"runs/{run.GetProperty("run_id").GetInt64()}").ExpectAsync(HttpStatusCode.OK));
        return runs.OrderBy(r => r.GetProperty("run_id").GetInt64()).ToList();
    }

    public static async Task<List<JsonElement>> WaitForAssetRunsAsync(this HttpClient client, string dag, int count, TimeSpan? timeout = null)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var runs = await client.AssetRunsAsync(dag);
            if (runs.Count >= count)
                return runs;
            if (clock.Elapsed > (timeout ?? TimeSpan.FromSeconds(20)))
                throw new TimeoutException($"{dag}: {runs.Count} asset run(s), expected {count}");
            await Task.Delay(50);
        }
    }

    /// <summary>The ids of the events a run's conf says it consumed.</summary>
    public static List<long> ConsumedIds(JsonElement run) =>
        run.GetProperty("conf").GetProperty("asset_events").EnumerateArray().Select(e => e.GetProperty("id").GetInt64()).ToList();
}
