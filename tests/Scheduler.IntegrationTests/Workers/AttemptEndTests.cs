using System.Net;
using System.Text.Json;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Workers;

/// <summary>Every attempt ends, whatever its executor or its output does, and frees its slot.</summary>
public sealed class AttemptEndTests(ServerFixture server) : ServerTest(server)
{
    private async Task<string> LogAsync(long runId, string task)
    {
        using var response = await Viewer.GetAsync($"runs/{runId}/tasks/{task}/logs");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    [Fact]
    public async Task PluginThrowingOnTimeout_EndsTimedOut_AndFreesItsSlot()
    {
        await Admin.PostJsonAsync("dags", """
            {"name":"careless","tasks":[
              {"id":"stuck","type":"throw_on_cancel","timeout":1,"retries":0},
              {"id":"after","type":"shell","command":"echo next","depends_on":["stuck"],"trigger_rule":"all_done"}
            ]}
            """).ExpectAsync(HttpStatusCode.Created);
        var run = await Viewer.WaitForRunAsync(await Operator.TriggerAsync("careless"));
        Assert.Equal("failed", RunHelpers.State(run, "stuck"));
        Assert.Equal("timed_out", RunHelpers.Task(run, "stuck").GetProperty("attempts")[0].GetProperty("state").GetString());
        Assert.Equal("success", RunHelpers.State(run, "after"));
        Assert.Contains("InvalidOperationException", await LogAsync(run.GetProperty("run_id").GetInt64(), "stuck"));
        // The slot is free: the worker's next heartbeat reports nothing running.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        JsonElement workers;
        do
        {
            await Task.Delay(200);
            workers = await Viewer.GetAsync("workers").ExpectAsync(HttpStatusCode.OK);
        } while (workers.EnumerateArray().Any(w => w.GetProperty("running").GetInt32() > 0) && DateTime.UtcNow < deadline);
        Assert.All(workers.EnumerateArray(), w => Assert.Equal(0, w.GetProperty("running").GetInt32()));
    }

    [Fact]
    public async Task ShellPrintingNul_Succeeds_AndItsLogKeepsAMark()
    {
        await Admin.PostJsonAsync("dags", """{"name":"nul","tasks":[{"id":"p","type":"shell","command":"printf 'a\\0b'"}]}""").ExpectAsync(HttpStatusCode.Created);
        var run = await Viewer.WaitForRunAsync(await Operator.TriggerAsync("nul"));
        Assert.Equal("success", RunHelpers.State(run, "p"));
        var attempts = RunHelpers.Task(run, "p").GetProperty("attempts").EnumerateArray().ToList();
        Assert.Equal(1, Assert.Single(attempts).GetProperty("attempt").GetInt32());
        Assert.Contains("a\u2400b", await LogAsync(run.GetProperty("run_id").GetInt64(), "p"));
    }

    [Fact]
    public async Task HttpFetchingBinary_Succeeds_AndItsLogIsStored()
    {
        using var listener = new RecordingListener { RespondBytes = (_, _) => [0x00, 0x01, 0xFF, 0xFE, (byte)'o', (byte)'k', 0x00, 0xC3, 0x28, 0xED, 0xA0, 0x80] };
        await Admin.PostJsonAsync("dags", $$"""{"name":"binary","tasks":[{"id":"get","type":"http","uri":"{{listener.Url}}/blob"}]}""").ExpectAsync(HttpStatusCode.Created);
        var run = await Viewer.WaitForRunAsync(await Operator.TriggerAsync("binary"));
        Assert.Equal("success", RunHelpers.State(run, "get"));
        Assert.Single(RunHelpers.Task(run, "get").GetProperty("attempts").EnumerateArray());
        var log = await LogAsync(run.GetProperty("run_id").GetInt64(), "get");
        Assert.Contains("200", log);
        Assert.Contains("\u2400", log);
        Assert.Contains("ok", log);
    }
}
