using System.Net;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Runs;

public sealed class DeadLetterTests(ServerFixture server) : ServerTest(server)
{
    [Fact]
    public async Task Requeued_IsListedOnlyWithIncludeRequeued()
    {
        await Admin.PostJsonAsync("dags", """{"name":"dl","tasks":[{"id":"f","type":"shell","command":"exit 3"}]}""").ExpectAsync(HttpStatusCode.Created);
        var run = await Viewer.WaitForRunAsync(await Operator.TriggerAsync("dl"));
        Assert.Equal("failed", run.GetProperty("state").GetString());
        var letter = (await Viewer.GetAsync("dead-letters").ExpectAsync(HttpStatusCode.OK)).GetProperty("items").EnumerateArray().Single();
        var id = letter.GetProperty("id").GetInt64();
        await Operator.PostAsync($"dead-letters/{id}/requeue", null).ExpectAsync(HttpStatusCode.OK);

        var open = await Viewer.GetAsync("dead-letters").ExpectAsync(HttpStatusCode.OK);
        Assert.DoesNotContain(open.GetProperty("items").EnumerateArray(), l => l.GetProperty("id").GetInt64() == id);
        var all = await Viewer.GetAsync("dead-letters?include_requeued=true").ExpectAsync(HttpStatusCode.OK);
        Assert.Contains(all.GetProperty("items").EnumerateArray(), l => l.GetProperty("id").GetInt64() == id);
    }
}
