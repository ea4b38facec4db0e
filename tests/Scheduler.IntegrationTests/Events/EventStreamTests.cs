using System.Net;
using System.Text.Json;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Events;

/// <summary>GET /events/stream over real HTTP: live events of the engine's transactions, filters, and Last-Event-ID resumption.</summary>
public sealed class EventStreamTests(ServerFixture server) : ServerTest(server)
{
    private sealed record Sse(string Id, string Type, JsonElement Data);

    /// <summary>An open stream, read event by event.</summary>
    private sealed class Stream : IAsyncDisposable
    {
        private readonly HttpClient _client;
        private readonly HttpResponseMessage _response;
        private readonly StreamReader _reader;

        private Stream(HttpClient client, HttpResponseMessage response, StreamReader reader) => (_client, _response, _reader) = (client, response, reader);

        public static async Task<Stream> OpenAsync(ServerFixture server, string query, string? lastEventId = null)
        {
            var client = new HttpClient { BaseAddress = new Uri(server.BaseAddress, "/api/v1/"), Timeout = Timeout.InfiniteTimeSpan };
            client.DefaultRequestHeaders.Add("X-Api-Key", ServerFixture.BootstrapKey);
            using var request = new HttpRequestMessage(HttpMethod.Get, "events/stream" + query);
            if (lastEventId is not null)
                request.Headers.Add("Last-Event-ID", lastEventId);
            var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
            return new Stream(client, response, new StreamReader(await response.Content.ReadAsStreamAsync()));
        }

        public async Task<Sse> NextAsync(TimeSpan? timeout = null)
        {
            using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
            string? id = null, type = null, data = null;
            while (true)
            {
                var line = await _reader.ReadLineAsync(cts.Token) ?? throw new EndOfStreamException();
                if (line.Length == 0)
                {
                    if (data is not null)
                        return new Sse(id!, type!, JsonDocument.Parse(data).RootElement.Clone());
                    continue;
                }
                if (line.StartsWith(':'))
                    continue;
                var colon = line.IndexOf(':');
                var (field, value) = (line[..colon], line[(colon + 1)..].TrimStart());
                switch (field)
                {
                    case "id": id = value; break;
                    case "event": type = value; break;
                    case "data": data = value; break;
                }
            }
        }

        /// <summary>Events up to and including the final run event (success, failed, cancelled) of <paramref name="runId"/>.</summary>
        public async Task<List<Sse>> UntilRunEndsAsync(long runId)
        {
            var events = new List<Sse>();
            while (true)
            {
                var e = await NextAsync();
                events.Add(e);
                if (e.Type == "run" && e.Data.GetProperty("run_id").GetInt64() == runId && e.Data.GetProperty("state").GetString() is "success" or "failed" or "cancelled")
                    return events;
            }
        }

        public async ValueTask DisposeAsync()
        {
            _reader.Dispose();
            _response.Dispose();
            _client.Dispose();
            await Task.CompletedTask;
        }
    }

    [Fact]
    public async Task Stream_CarriesTaskAndRunStateChanges_OfTheFilteredDagOnly()
    {
        await Admin.PostJsonAsync("dags", """{"name":"watched","tasks":[{"id":"a"},{"id":"b","depends_on":["a"]}]}""").ExpectAsync(HttpStatusCode.Created);
        await Admin.PostJsonAsync("dags", """{"name":"other","tasks":[{"id":"x"}]}""").ExpectAsync(HttpStatusCode.Created);
        await using var stream = await Stream.OpenAsync(Server, "?dag=watched");
        await Operator.WaitForRunAsync(await Operator.TriggerAsync("other"));
        var run = await Operator.TriggerAsync("watched");

        var events = await stream.UntilRunEndsAsync(run);
        Assert.All(events, e => Assert.Equal("watched", e.Data.GetProperty("dag").GetString()));
        Assert.All(events, e => Assert.Equal(e.Id, e.Data.GetProperty("id").GetString()));
        Assert.Contains(events, e => e.Type == "task" && e.Data.GetProperty("task_id").GetString() == "a" && e.Data.GetProperty("state").GetString() == "success");
        Assert.Contains(events, e => e.Type == "task" && e.Data.GetProperty("task_id").GetString() == "b" && e.Data.GetProperty("state").GetString() == "success");
        Assert.Equal("success", events[^1].Data.GetProperty("state").GetString());
        Assert.Equal(events.Count, events.Select(e => e.Id).Distinct().Count());
        // The whole life of the run, in order: its creation and start, each task's queue and claim.
        var ofRun = events.Where(e => e.Data.GetProperty("run_id").GetInt64() == run)
            .Select(e => e.Type == "run" ? $"run:{e.Data.GetProperty("state").GetString()}" : $"{e.Data.GetProperty("task_id").GetString()}:{e.Data.GetProperty("state").GetString()}");
        Assert.Equal(["run:queued", "run:running", "a:queued", "a:running", "a:success", "b:queued", "b:running", "b:success", "run:success"], ofRun);
    }

    [Fact]
    public async Task Reconnecting_WithLastEventId_MissesNothingAndRepeatsNothing()
    {
        await Admin.PostJsonAsync("dags", """{"name":"resumed","tasks":[{"id":"a"},{"id":"b","depends_on":["a"]},{"id":"c","depends_on":["b"]}]}""").ExpectAsync(HttpStatusCode.Created);
        string firstId;
        long run;
        await using (var stream = await Stream.OpenAsync(Server, "?dag=resumed"))
        {
            run = await Operator.TriggerAsync("resumed");
            firstId = (await stream.NextAsync()).Id;
        } // disconnected while the run goes on
        await Operator.WaitForRunAsync(run);

        List<Sse> all;
        await using (var everything = await Stream.OpenAsync(Server, $"?run={run}", lastEventId: "0.0"))
            all = await everything.UntilRunEndsAsync(run);
        var index = all.FindIndex(e => e.Id == firstId);
        Assert.True(index >= 0, $"{firstId} not in {string.Join(",", all.Select(e => e.Id))}");

        await using var resumed = await Stream.OpenAsync(Server, "?dag=resumed", lastEventId: firstId);
        var rest = await resumed.UntilRunEndsAsync(run);
        Assert.Equal(all.Skip(index + 1).Select(e => e.Id), rest.Select(e => e.Id));
        Assert.Equal(3, all.Count(e => e.Type == "task" && e.Data.GetProperty("state").GetString() == "success"));
    }

    [Fact]
    public async Task MappedInstances_CarryTheirMapIndex_TheTasksOwnRowNone()
    {
        await Admin.PostJsonAsync("dags", """{"name":"mapped_events","tasks":[{"id":"m","type":"shell","map_over":"[\"x\",\"y\"]","command":"echo {{ item }}"}]}""")
            .ExpectAsync(HttpStatusCode.Created);
        var run = await Operator.TriggerAsync("mapped_events");
        await Operator.WaitForRunAsync(run);
        await using var stream = await Stream.OpenAsync(Server, $"?run={run}", lastEventId: "0.0");
        var tasks = (await stream.UntilRunEndsAsync(run)).Where(e => e.Type == "task").ToList();

        string Of(int? index) => string.Join(",", tasks
            .Where(e => (e.Data.TryGetProperty("map_index", out var i) ? i.GetInt32() : (int?)null) == index)
            .Select(e => e.Data.GetProperty("state").GetString()));
        Assert.Equal("queued,running,success", Of(null)); // the own row: renders the list, then takes the instances' summary
        Assert.Equal("queued,running,success", Of(0));
        Assert.Equal("queued,running,success", Of(1));
        Assert.Equal(9, tasks.Count);
    }

    [Fact]
    public async Task BadLastEventId_Is400_AndTheStreamNeedsAKey()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "events/stream");
        request.Headers.Add("Last-Event-ID", "nonsense");
        var problem = await Viewer.SendAsync(request).ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(problem.Errors("Last-Event-ID"));
        await Anonymous.GetAsync("api/v1/events/stream").ExpectProblemAsync(HttpStatusCode.Unauthorized);
    }
}
