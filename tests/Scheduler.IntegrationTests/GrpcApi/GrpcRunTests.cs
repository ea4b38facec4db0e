using Grpc.Core;
using Scheduler.IntegrationTests.Audit;
using Scheduler.IntegrationTests.Infrastructure;
using Scheduler.Rpc.V1;
using static Scheduler.IntegrationTests.GrpcApi.GrpcClients;

namespace Scheduler.IntegrationTests.GrpcApi;

/// <summary>RunService over the real h2c port: Trigger, Get, Cancel and Watch, fed by the event hub.</summary>
public sealed class GrpcRunTests(ServerFixture server) : ServerTest(server), IDisposable
{
    private readonly GrpcClients _grpc = new(server);

    private async Task DagAsync(string json) => await _grpc.Dags.UpsertAsync(new UpsertDagRequest { Name = System.Text.Json.JsonDocument.Parse(json).RootElement.GetProperty("name").GetString(), DefinitionJson = json }, Key(Admin));

    /// <summary>Events of a watch until <paramref name="until"/> holds for one (included) or the stream ends.</summary>
    private static async Task<List<RunEvent>> ReadAsync(AsyncServerStreamingCall<RunEvent> call, Func<RunEvent, bool>? until = null)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var events = new List<RunEvent>();
        try
        {
            while (await call.ResponseStream.MoveNext(timeout.Token))
            {
                events.Add(call.ResponseStream.Current);
                if (until?.Invoke(call.ResponseStream.Current) == true)
                    break;
            }
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && timeout.IsCancellationRequested)
        {
            Assert.Fail($"the watch went quiet after {string.Join(", ", events.Select(Line))}");
        }
        return events;
    }

    private static string Line(RunEvent e) => e.TaskId.Length == 0 ? $"run:{e.State}" : $"{e.TaskId}:{e.State}";

    [Fact]
    public async Task Watch_SeesARun_FromTriggerToSuccess()
    {
        await DagAsync("""{"name":"g-watch","tasks":[{"id":"a"},{"id":"b","depends_on":["a"]}]}""");
        using var watch = _grpc.Runs.Watch(new WatchRequest { Dag = "g-watch" }, Key(Viewer));
        await Task.Delay(300); // the watch is subscribed once its headers are sent; give it a moment
        var run = await _grpc.Runs.TriggerAsync(new TriggerRunRequest { Dag = "g-watch", ConfJson = """{"x":1}""" }, Key(Operator));
        Assert.Equal("manual", run.RunType);
        Assert.Equal("""{"x":1}""", run.ConfJson);

        var events = await ReadAsync(watch, e => e.TaskId.Length == 0 && e.State == "success");
        Assert.All(events, e => Assert.Equal(run.RunId, e.RunId));
        Assert.Equal(["run:queued", "run:running", "a:queued", "a:running", "a:success", "b:queued", "b:running", "b:success", "run:success"], events.Select(Line));
        Assert.Equal(events.Count, events.Select(e => e.Id).Distinct().Count());

        var done = await _grpc.Runs.GetAsync(new GetRunRequest { RunId = run.RunId }, Key(Viewer));
        Assert.Equal("success", done.State);
        Assert.Equal(["success", "success"], done.Tasks.Select(t => t.State));
        Assert.Equal("test-operator", (await Admin.OneAsync("run.trigger", "dag/g-watch")).GetProperty("actor").GetProperty("name").GetString());
    }

    [Fact]
    public async Task WatchOfOneRun_ReplaysFromTheLog_AndEndsWithTheRun_IncludingRetryAndFailure()
    {
        await DagAsync("""{"name":"g-fail","tasks":[{"id":"a","type":"shell","command":"exit 3","retries":1,"retry_delay":"PT0.2S"}]}""");
        var run = await _grpc.Runs.TriggerAsync(new TriggerRunRequest { Dag = "g-fail" }, Key(Operator));
        await Operator.WaitForRunAsync(run.RunId);
        using var replay = _grpc.Runs.Watch(new WatchRequest { RunId = run.RunId, After = "0.0" }, Key(Viewer));
        var events = await ReadAsync(replay); // ends by itself after the run's end
        Assert.Equal(["run:queued", "run:running", "a:queued", "a:running", "a:up_for_retry", "a:queued", "a:running", "a:failed", "run:failed"], events.Select(Line));

        // Resuming after an event gives exactly the rest.
        using var resumed = _grpc.Runs.Watch(new WatchRequest { RunId = run.RunId, After = events[3].Id }, Key(Viewer));
        Assert.Equal(events.Skip(4).Select(e => e.Id), (await ReadAsync(resumed)).Select(e => e.Id));
        // A finished run with nothing to replay ends at once.
        using var finished = _grpc.Runs.Watch(new WatchRequest { RunId = run.RunId }, Key(Viewer));
        Assert.Empty(await ReadAsync(finished));
    }

    [Fact]
    public async Task Watch_NamesTheInstancesOfAMappedTask()
    {
        await DagAsync("""{"name":"g-map","tasks":[{"id":"m","type":"shell","map_over":"[1,2,3]","command":"true"}]}""");
        var run = await _grpc.Runs.TriggerAsync(new TriggerRunRequest { Dag = "g-map" }, Key(Operator));
        await Operator.WaitForRunAsync(run.RunId);
        using var replay = _grpc.Runs.Watch(new WatchRequest { RunId = run.RunId, After = "0.0" }, Key(Viewer));
        var tasks = (await ReadAsync(replay)).Where(e => e.TaskId.Length > 0).ToList();
        Assert.Equal(["queued", "running", "success"], tasks.Where(e => !e.HasMapIndex).Select(e => e.State));
        Assert.Equal([0, 0, 0, 1, 1, 1, 2, 2, 2], tasks.Where(e => e.HasMapIndex).Select(e => e.MapIndex).Order());
        Assert.All(tasks.Where(e => e.HasMapIndex && e.State == "success"), e => Assert.Equal("m", e.TaskId));
    }

    [Fact]
    public async Task Trigger_Get_Cancel_AndTheirErrors()
    {
        await DagAsync("""{"name":"g-slow","tasks":[{"id":"s","type":"shell","command":"sleep 30"}]}""");
        var at = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(new DateTimeOffset(2027, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var run = await _grpc.Runs.TriggerAsync(new TriggerRunRequest { Dag = "g-slow", LogicalDate = at }, Key(Operator));
        Assert.Equal(at, run.LogicalDate);
        await FailsAsync(StatusCode.AlreadyExists, () => _grpc.Runs.TriggerAsync(new TriggerRunRequest { Dag = "g-slow", LogicalDate = at }, Key(Operator)).ResponseAsync);
        await Operator.WaitForTaskAsync(run.RunId, "s", "running");

        var cancelled = await _grpc.Runs.CancelAsync(new CancelRunRequest { RunId = run.RunId }, Key(Operator));
        Assert.Equal("cancelled", cancelled.State);
        await FailsAsync(StatusCode.FailedPrecondition, () => _grpc.Runs.CancelAsync(new CancelRunRequest { RunId = run.RunId }, Key(Operator)).ResponseAsync);
        Assert.Equal("test-operator", (await Admin.OneAsync("run.cancel", $"run/{run.RunId}")).GetProperty("actor").GetProperty("name").GetString());

        await FailsAsync(StatusCode.NotFound, () => _grpc.Runs.TriggerAsync(new TriggerRunRequest { Dag = "nope" }, Key(Operator)).ResponseAsync);
        await FailsAsync(StatusCode.NotFound, () => _grpc.Runs.GetAsync(new GetRunRequest { RunId = 987654321 }, Key(Viewer)).ResponseAsync);
        await FailsAsync(StatusCode.NotFound, () => _grpc.Runs.CancelAsync(new CancelRunRequest { RunId = 987654321 }, Key(Operator)).ResponseAsync);
        await FailsAsync(StatusCode.NotFound, () => ReadAsync(_grpc.Runs.Watch(new WatchRequest { RunId = 987654321 }, Key(Viewer))));
        foreach (var conf in new[] { "[1]", "{oops" })
        {
            var bad = await FailsAsync(StatusCode.InvalidArgument, () => _grpc.Runs.TriggerAsync(new TriggerRunRequest { Dag = "g-slow", ConfJson = conf }, Key(Operator)).ResponseAsync);
            Assert.Equal(["conf_json"], Fields(bad));
        }
        var after = await FailsAsync(StatusCode.InvalidArgument, () => ReadAsync(_grpc.Runs.Watch(new WatchRequest { After = "yesterday" }, Key(Viewer))));
        Assert.Equal(["after"], Fields(after));
        await FailsAsync(StatusCode.PermissionDenied, () => _grpc.Runs.TriggerAsync(new TriggerRunRequest { Dag = "g-slow" }, Key(Viewer)).ResponseAsync);
        await FailsAsync(StatusCode.PermissionDenied, () => _grpc.Runs.CancelAsync(new CancelRunRequest { RunId = run.RunId }, Key(Viewer)).ResponseAsync);
    }

    public void Dispose() => _grpc.Dispose();
}
