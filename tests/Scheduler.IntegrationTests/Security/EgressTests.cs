using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Security;

/// <summary>
/// The egress policy on the real server: the fixture denies <see cref="ServerFixture.EgressDenied"/>
/// (a loopback address, so nothing leaves the machine even when the policy fails), and a
/// listener there counts the connections that got through: none may.
/// </summary>
public sealed class EgressTests(ServerFixture server) : ServerTest(server)
{
    /// <summary>A TCP listener on the denied address that counts what connects to it.</summary>
    private sealed class DeniedListener : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Parse(ServerFixture.EgressDenied), 0);
        private int _connections;

        public DeniedListener()
        {
            _listener.Start();
            _ = Task.Run(async () =>
            {
                while (true)
                {
                    try
                    {
                        using var client = await _listener.AcceptTcpClientAsync();
                        Interlocked.Increment(ref _connections);
                    }
                    catch (Exception e) when (e is SocketException or ObjectDisposedException)
                    {
                        return;
                    }
                }
            });
        }

        public int Connections => Volatile.Read(ref _connections);

        public string Url => $"http://{ServerFixture.EgressDenied}:{((IPEndPoint)_listener.LocalEndpoint).Port}";

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public void Dispose() => _listener.Stop();
    }

    private async Task<(JsonElement Run, string Log)> RunHttpTaskAsync(string uri)
    {
        await Admin.PostJsonAsync("dags", $$"""{"name":"egress","tasks":[{"id":"get","type":"http","uri":"{{uri}}"}]}""").ExpectAsync(HttpStatusCode.Created);
        var run = await Viewer.WaitForRunAsync(await Operator.TriggerAsync("egress"));
        using var log = await Viewer.GetAsync($"runs/{run.GetProperty("run_id").GetInt64()}/tasks/get/logs");
        return (run, await log.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task HttpTask_ToADeniedAddress_FailsWithTheReason_AndNeverConnects()
    {
        using var denied = new DeniedListener();
        var (run, log) = await RunHttpTaskAsync(denied.Url + "/data");
        Assert.Equal("failed", RunHelpers.State(run, "get"));
        Assert.Contains("Egress policy refused the connection", log);
        Assert.Contains($"{ServerFixture.EgressDenied} is denied by Egress:Deny", log);
        Assert.Equal(0, denied.Connections);
    }

    [Fact]
    public async Task HttpTask_RedirectedToADeniedAddress_IsRefusedAtThatHop()
    {
        using var denied = new DeniedListener();
        using var allowed = new RecordingListener { Respond = (_, _) => (302, "") };
        allowed.ResponseHeaders["Location"] = denied.Url + "/metadata";
        var (run, log) = await RunHttpTaskAsync(allowed.Url + "/start");
        Assert.Equal("failed", RunHelpers.State(run, "get"));
        await allowed.WaitForAsync(1, r => r.Path == "/start");
        Assert.Contains("Egress policy refused the connection", log);
        Assert.Equal(0, denied.Connections);
    }

    [Fact]
    public async Task WebhookDelivery_ToADeniedAddress_FailsWithTheReasonInLastError()
    {
        using var denied = new DeniedListener();
        await Admin.ChannelAsync("hook", "webhook", $$"""{"url":"{{denied.Url}}/events","secret":"webhook-shared-secret-0123456789"}""");
        await Admin.PostJsonAsync("dags", """{"name":"notify-denied","notifications":[{"on":["success"],"channel":"hook"}],"tasks":[{"id":"a"}]}""").ExpectAsync(HttpStatusCode.Created);
        var runId = await Admin.TriggerAsync("notify-denied");
        await Admin.WaitForRunAsync(runId);
        var failed = (await Admin.DeliveriesAsync($"run_id={runId}", 1, d => d.GetProperty("status").GetString() == "failed")).Single();
        Assert.Contains("Egress policy refused the connection", failed.GetProperty("last_error").GetString());
        Assert.Equal(0, denied.Connections);
    }

    [Fact]
    public async Task EmailChannel_ToADeniedHost_IsRefused()
    {
        using var denied = new DeniedListener();
        await Admin.ChannelAsync("mail", "email", $$"""{"host":"{{ServerFixture.EgressDenied}}","port":{{denied.Port}},"tls":"none","from":"a@example.test","to":["b@example.test"]}""");
        var result = await Admin.PostJsonAsync("channels/mail/test", "{}").ExpectAsync(HttpStatusCode.OK);
        Assert.False(result.GetProperty("delivered").GetBoolean());
        Assert.Contains("Egress policy refused the connection", result.GetProperty("error").GetString());
        Assert.Equal(0, denied.Connections);
    }
}
