using System.Net;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Authoring;

/// <summary>Variables over HTTP: CRUD, write-only secrets, vars.* in templates, secrets masked in logs, outputs and errors.</summary>
public sealed class VariablesTests(ServerFixture server) : ServerTest(server)
{
    [Fact]
    public async Task Variables_AreStoredListedAndDeleted_SecretsWriteOnly()
    {
        var created = await Admin.PutJsonAsync("variables/region", """{"value":{"name":"eu","zones":3},"description":"where"}""").ExpectAsync(HttpStatusCode.Created);
        Assert.Equal("eu", created.GetProperty("value").GetProperty("name").GetString());
        Assert.False(created.GetProperty("secret").GetBoolean());
        var secret = await Admin.PutJsonAsync("variables/token", """{"value":"s3cr3t-value","secret":true}""").ExpectAsync(HttpStatusCode.Created);
        Assert.True(secret.GetProperty("secret").GetBoolean());
        Assert.DoesNotContain("s3cr3t", secret.GetRawText());
        await Admin.PutJsonAsync("variables/region", """{"value":"us"}""").ExpectAsync(HttpStatusCode.OK);

        Assert.Equal("us", (await Viewer.GetAsync("variables/region").ExpectAsync(HttpStatusCode.OK)).GetProperty("value").GetString());
        var list = await Viewer.GetAsync("variables").ExpectAsync(HttpStatusCode.OK);
        Assert.DoesNotContain("s3cr3t", list.GetRawText());
        Assert.Equal(["region", "token"], list.GetProperty("items").EnumerateArray().Select(v => v.GetProperty("name").GetString()!).ToArray());

        await Operator.PutJsonAsync("variables/x", """{"value":1}""").ExpectProblemAsync(HttpStatusCode.Forbidden);
        var bad = await Admin.PutJsonAsync("variables/x", """{"secret":true}""").ExpectProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(bad.Errors("value"));
        await Admin.DeleteAsync("variables/region").ExpectAsync(HttpStatusCode.NoContent);
        await Viewer.GetAsync("variables/region").ExpectProblemAsync(HttpStatusCode.NotFound);
        await Admin.DeleteAsync("variables/region").ExpectProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Templates_ReadVars_AndSecretsAreMaskedInLogOutputAndError()
    {
        using var listener = new RecordingListener();
        await Admin.PutJsonAsync("variables/api_token", """{"value":"tok-9f8e7d6c","secret":true}""").ExpectAsync(HttpStatusCode.Created);
        await Admin.PutJsonAsync("variables/target", """{"value":{"path":"ingest"}}""").ExpectAsync(HttpStatusCode.Created);
        await Admin.PostJsonAsync("dags", $$$"""
            {"name":"vars-use","tasks":[
              {"id":"call","type":"http","uri":"{{{listener.Url}}}/{{ vars.target.path }}","headers":{"Authorization":"Bearer {{ vars.api_token }}"}},
              {"id":"echo","type":"shell","command":"echo token={{ vars.api_token }}; echo '{\"t\": \"{{ vars.api_token }}\"}' > \"$SCHEDULER_OUTPUT\""},
              {"id":"fail","type":"shell","command":"echo {{ vars.api_token }} >&2; exit 3"}
            ]}
            """).ExpectAsync(HttpStatusCode.Created);
        var runId = await Operator.TriggerAsync("vars-use");
        var run = await Viewer.WaitForRunAsync(runId);
        Assert.Equal("success", RunHelpers.State(run, "call"));
        var request = Assert.Single(listener.Requests);
        Assert.Equal("/ingest", request.Path);
        Assert.Equal("Bearer tok-9f8e7d6c", request.Headers["Authorization"]);

        var log = await (await Viewer.GetAsync($"runs/{runId}/tasks/echo/logs")).Content.ReadAsStringAsync();
        Assert.Contains("token=***", log);
        Assert.DoesNotContain("tok-9f8e7d6c", log);
        var output = await Viewer.GetAsync($"runs/{runId}/tasks/echo/output").ExpectAsync(HttpStatusCode.OK);
        Assert.Equal("***", output.GetProperty("t").GetString());
        var failLog = await (await Viewer.GetAsync($"runs/{runId}/tasks/fail/logs")).Content.ReadAsStringAsync();
        Assert.DoesNotContain("tok-9f8e7d6c", failLog);
        Assert.DoesNotContain("tok-9f8e7d6c", run.GetRawText());
    }
}
