using System.Diagnostics;
using System.Net;
using System.Text.Json;

namespace Scheduler.IntegrationTests.Infrastructure;

public static class RunHelpers
{
    public static async Task<long> TriggerAsync(this HttpClient client, string dag, string body = "{}")
    {
        var run = await client.PostJsonAsync($"dags/{dag}/runs", body).ExpectAsync(HttpStatusCode.Created);
        return run.GetProperty("run_id").GetInt64();
    }

    /// <summary>Polls the run until it reaches a final state (or the time runs out).</summary>
    public static async Task<JsonElement> WaitForRunAsync(this HttpClient client, long runId, TimeSpan? timeout = null, string[]? states = null)
    {
        states ??= ["success", "failed", "cancelled"];
        var clock = Stopwatch.StartNew();
        JsonElement run;
        do
        {
            run = await client.GetAsync($"runs/{runId}").ExpectAsync(HttpStatusCode.OK);
            if (states.Contains(run.GetProperty("state").GetString()))
                return run;
            await System.Threading.Tasks.Task.Delay(50);
        } while (clock.Elapsed < (timeout ?? TimeSpan.FromSeconds(20)));
        throw new TimeoutException($"run {runId} is still {run.GetProperty("state").GetString()}: {run}");
    }

    public static async Task<JsonElement> WaitForTaskAsync(this HttpClient client, long runId, string taskId, string state, TimeSpan? timeout = null)
    {
        var clock = Stopwatch.StartNew();
        JsonElement task;
        do
        {
            task = Task(await client.GetAsync($"runs/{runId}").ExpectAsync(HttpStatusCode.OK), taskId);
            if (task.GetProperty("state").GetString() == state)
                return task;
            await System.Threading.Tasks.Task.Delay(50);
        } while (clock.Elapsed < (timeout ?? TimeSpan.FromSeconds(20)));
        throw new TimeoutException($"task {taskId} of run {runId} is {task.GetProperty("state").GetString()}, not {state}");
    }

    /// <summary>A task's own row (for a mapped task, not one of its instances).</summary>
    public static JsonElement Task(JsonElement run, string taskId) =>
        run.GetProperty("tasks").EnumerateArray().Single(t => t.GetProperty("task_id").GetString() == taskId && !t.TryGetProperty("map_index", out _));

    /// <summary>A mapped task's instances, in map_index order.</summary>
    public static List<JsonElement> Instances(JsonElement run, string taskId) =>
        run.GetProperty("tasks").EnumerateArray().Where(t => t.GetProperty("task_id").GetString() == taskId && t.TryGetProperty("map_index", out _))
            .OrderBy(t => t.GetProperty("map_index").GetInt32()).ToList();

    public static string State(JsonElement run, string taskId) => Task(run, taskId).GetProperty("state").GetString()!;

    public static DateTimeOffset Time(JsonElement task, string field) => DateTimeOffset.Parse(task.GetProperty(field).GetString()!);
}
