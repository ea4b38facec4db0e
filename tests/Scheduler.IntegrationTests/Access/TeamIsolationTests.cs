using System.Net;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Access;

/// <summary>
/// Two merchants on one server (in the spirit of seed 004): each team has its own key, DAGs and
/// runs, and neither key can list, read, trigger or count the other's: the other's objects are
/// 404, exactly like objects that do not exist.
/// </summary>
public sealed class TeamIsolationTests(ServerFixture server) : ServerTest(server)
{
    [Fact]
    public async Task TwoMerchants_CannotSeeOrTouchEachOther()
    {
        await Server.CreateTeamAsync("merchant_a");
        await Server.CreateTeamAsync("merchant_b");
        using var a = await Server.TeamClientAsync("key-a", new() { ["merchant_a"] = "operator" });
        using var b = await Server.TeamClientAsync("key-b", new() { ["merchant_b"] = "operator" });
        await Admin.PutJsonAsync("dags/a_orders", TeamHelpers.Dag("a_orders", "merchant_a")).ExpectAsync(HttpStatusCode.Created);
        await Admin.PutJsonAsync("dags/b_orders", TeamHelpers.Dag("b_orders", "merchant_b")).ExpectAsync(HttpStatusCode.Created);
        var runA = await a.TriggerAsync("a_orders");
        var runB = await b.TriggerAsync("b_orders");
        await a.WaitForRunAsync(runA);
        await b.WaitForRunAsync(runB);
        var backfill = await b.PostJsonAsync("dags/b_orders/backfills", """{"from":"2026-01-01T00:00:00Z","to":"2026-01-02T00:00:00Z","dry_run":false}""")
            .ExpectAsync(HttpStatusCode.Created);

        foreach (var (me, mine, myRun, other, otherRun) in new[] { (a, "a_orders", runA, "b_orders", runB), (b, "b_orders", runB, "a_orders", runA) })
        {
            // Lists: only their own.
            var dags = await me.GetAsync("dags").ExpectAsync(HttpStatusCode.OK);
            Assert.Equal([mine], dags.GetProperty("items").EnumerateArray().Select(d => d.GetProperty("name").GetString()!));
            var search = await me.GetAsync($"dags?q={other}").ExpectAsync(HttpStatusCode.OK);
            Assert.Equal(0, search.GetProperty("items").GetArrayLength());
            // Counts (run history of the other's DAG): as empty as for a DAG that does not exist.
            var otherRuns = await me.GetAsync($"dags/{other}/runs").ExpectAsync(HttpStatusCode.OK);
            Assert.Equal(0, otherRuns.GetProperty("items").GetArrayLength());
            var status = await me.GetAsync($"dags/{other}/status").ExpectAsync(HttpStatusCode.OK);
            Assert.Equal(0, status.GetProperty("items").GetArrayLength());
            Assert.True((await me.GetAsync($"dags/{mine}/runs").ExpectAsync(HttpStatusCode.OK)).GetProperty("items").GetArrayLength() > 0);

            // Reads and acts: 404 with the text a missing object gets.
            await AssertSameAsMissing(me, $"dags/{other}", "dags/no_such_dag");
            await AssertSameAsMissing(me, $"dags/{other}/versions", "dags/no_such_dag/versions");
            await AssertSameAsMissing(me, $"dags/{other}/versions/1", "dags/no_such_dag/versions/1");
            await AssertSameAsMissing(me, $"dags/{other}/schedule", "dags/no_such_dag/schedule");
            await AssertSameAsMissing(me, $"runs/{otherRun}", "runs/999999999");
            await AssertSameAsMissing(me, $"runs/{otherRun}/tasks/a/logs", "runs/999999999/tasks/a/logs");
            await AssertSameAsMissing(me, $"runs/{otherRun}/tasks/a/output", "runs/999999999/tasks/a/output");
            await me.PostJsonAsync($"dags/{other}/runs", "{}").ExpectProblemAsync(HttpStatusCode.NotFound);
            await me.PostAsync($"dags/{other}/pause", null).ExpectProblemAsync(HttpStatusCode.NotFound);
            await me.PostAsync($"runs/{otherRun}/cancel", null).ExpectProblemAsync(HttpStatusCode.NotFound);
            await me.PostAsync($"runs/{otherRun}/tasks/a/clear", null).ExpectProblemAsync(HttpStatusCode.NotFound);
            await me.DeleteAsync($"dags/{other}").ExpectProblemAsync(HttpStatusCode.NotFound);
            var otherBackfills = await me.GetAsync($"dags/{other}/backfills").ExpectAsync(HttpStatusCode.OK);
            Assert.Equal(0, otherBackfills.GetProperty("items").GetArrayLength());

            // Their own: readable and operable.
            await me.GetAsync($"runs/{myRun}").ExpectAsync(HttpStatusCode.OK);
            await me.GetAsync($"runs/{myRun}/tasks/a/logs").ExpectAsync(HttpStatusCode.OK);
        }
        var backfillId = backfill.GetProperty("id").GetInt64();
        await AssertSameAsMissing(a, $"backfills/{backfillId}", "backfills/999999999");
        await a.PostAsync($"backfills/{backfillId}/cancel", null).ExpectProblemAsync(HttpStatusCode.NotFound);
        await b.GetAsync($"backfills/{backfillId}").ExpectAsync(HttpStatusCode.OK);
        // The events stream replays only the caller's DAGs.
        var events = await ReadStreamAsync(a);
        Assert.Contains("a_orders", events);
        Assert.DoesNotContain("b_orders", events);
    }

    private static async Task AssertSameAsMissing(HttpClient client, string hidden, string missing)
    {
        var h = await client.GetAsync(hidden).ExpectProblemAsync(HttpStatusCode.NotFound);
        var m = await client.GetAsync(missing).ExpectProblemAsync(HttpStatusCode.NotFound);
        var expected = m.GetProperty("detail").GetString()!.Replace("no_such_dag", "{x}").Replace("999999999", "{x}");
        var actual = h.GetProperty("detail").GetString()!;
        Assert.Matches("^" + System.Text.RegularExpressions.Regex.Escape(expected).Replace(@"\{x}", "[A-Za-z0-9_]+") + "$", actual);
    }

    /// <summary>The stream from the start of the event log (Last-Event-ID 0.0), read for a moment.</summary>
    private static async Task<string> ReadStreamAsync(HttpClient client)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "events/stream");
        request.Headers.Add("Last-Event-ID", "0.0");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(8));
        var text = new System.Text.StringBuilder();
        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cts.Token));
            while (await reader.ReadLineAsync(cts.Token) is { } line)
                text.AppendLine(line);
        }
        catch (OperationCanceledException)
        {
        }
        return text.ToString();
    }
}
