using System.Collections.Concurrent;
using System.Net;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Access;

/// <summary>A team-only key's event stream follows its teams' DAGs while it stays connected: a DAG that joins shows, one moved away stops showing.</summary>
public sealed class TeamEventStreamTests(ServerFixture server) : ServerTest(server)
{
    [Fact]
    public async Task OpenStream_FollowsDagsJoiningAndLeavingTheTeam()
    {
        await Server.CreateTeamDagsAsync("true", ("sta", "st_moved"), ("stb", "st_other"));
        using var client = await Server.TeamClientAsync("st-viewer", new() { ["sta"] = "viewer" });
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var lines = new ConcurrentQueue<string>();
        var connected = new TaskCompletionSource();
        var reading = Task.Run(async () =>
        {
            try
            {
                using var response = await client.GetAsync("events/stream", HttpCompletionOption.ResponseHeadersRead, cts.Token);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cts.Token));
                while (await reader.ReadLineAsync(cts.Token) is { } line)
                {
                    lines.Enqueue(line);
                    connected.TrySetResult();
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
        await connected.Task.WaitAsync(TimeSpan.FromSeconds(10));

        // After the stream opened: st_moved goes to team stb, st_joined is created in sta.
        await Admin.PutJsonAsync("dags/st_moved", TeamHelpers.Dag("st_moved", "stb")).ExpectAsync(HttpStatusCode.OK);
        await Admin.PutJsonAsync("dags/st_joined", TeamHelpers.Dag("st_joined", "sta")).ExpectAsync(HttpStatusCode.Created);
        await Task.Delay(TimeSpan.FromSeconds(6)); // the stream reads its teams' DAGs again every 5 s

        await Admin.WaitForRunAsync(await Admin.TriggerAsync("st_moved"));
        var joined = await Admin.TriggerAsync("st_joined");
        await Admin.WaitForRunAsync(joined);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!lines.Any(l => l.Contains("\"kind\":\"run\"") && l.Contains($"\"run_id\":{joined},") && l.Contains("\"state\":\"success\"")) && DateTime.UtcNow < deadline)
            await Task.Delay(100);
        await cts.CancelAsync();
        await reading;

        var text = string.Join('\n', lines);
        Assert.Contains("\"dag\":\"st_joined\"", text);
        Assert.DoesNotContain("st_moved", text); // its run came first, so it would have arrived before st_joined's end
        Assert.DoesNotContain("st_other", text);
    }
}
