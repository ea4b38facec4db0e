using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Client;

/// <summary>The OpenAPI document as client generators read it (issue 18).</summary>
public sealed partial class OpenApiClientTests(ServerFixture server) : ServerTest(server)
{
    [GeneratedRegex("^[A-Za-z][A-Za-z0-9]*$")]
    private static partial Regex SchemaId();

    private async Task<string> DocumentAsync()
    {
        await Anonymous.GetAsync("swagger/v1/swagger.json").ExpectAsync(HttpStatusCode.OK);
        return await Anonymous.GetStringAsync("swagger/v1/swagger.json");
    }

    [Fact]
    public async Task SchemaIds_AreReadableAndUnique()
    {
        var document = JsonNode.Parse(await DocumentAsync())!;
        var ids = document["components"]!["schemas"]!.AsObject().Select(s => s.Key).ToList();
        Assert.All(ids, id => Assert.Matches(SchemaId(), id));
        // Unique even ignoring case: generated files must not collide on a case-insensitive disk.
        Assert.Equal(ids.Count, ids.Distinct(StringComparer.OrdinalIgnoreCase).Count());
        Assert.Contains("DagSummaryPage", ids);
        Assert.Contains("RunSummaryPage", ids);
        Assert.Contains("TriggerDagRunRequest", ids);
        Assert.Contains("CreateApiKeyRequest", ids);
        Assert.DoesNotContain(ids, id => id.Contains("JsonNode") || id.Contains("JsonElement"));
    }

    [Fact]
    public async Task FreeFormValues_AndTextResponses_AreTyped()
    {
        var document = JsonNode.Parse(await DocumentAsync())!;
        var schemas = document["components"]!["schemas"]!;
        // conf is any JSON object, not a model of JsonNode's own members.
        var conf = schemas["TriggerDagRunRequest"]!["properties"]!["conf"]!;
        Assert.Null(conf["$ref"]);
        Assert.Null(conf["properties"]);
        // Durations are ISO-8601 strings, not a .NET TimeSpan format.
        var interval = schemas["DagDefinition"]!["properties"]!["interval"]!;
        Assert.Equal("string", interval["type"]!.GetValue<string>());
        Assert.Null(interval["format"]);
        var log = document["paths"]!["/api/v1/runs/{runId}/tasks/{taskId}/logs"]!["get"]!["responses"]!["200"]!;
        Assert.Equal("string", log["content"]!["text/plain"]!["schema"]!["type"]!.GetValue<string>());
    }

    /// <summary>NSwag on today's document, then the compiler: zero errors.</summary>
    [Fact]
    public async Task GeneratedClient_Compiles()
    {
        var code = await ClientGenerator.GenerateAsync(await DocumentAsync());
        var errors = ClientGenerator.Compile(code);
        Assert.True(errors.Count == 0, string.Join(Environment.NewLine, errors.Take(20)));
        Assert.Contains("Task<DagSummaryPage> ListDagsAsync", code);
        Assert.Contains("Task<string> GetTaskLogAsync", code);
    }

    /// <summary>
    /// src/Scheduler.Client builds its models from a copy of the document: it must be today's.
    /// Run with SCHEDULER_UPDATE_OPENAPI=1 to write the copy after changing the API.
    /// </summary>
    [Fact]
    public async Task ClientsCopyOfTheDocument_IsUpToDate()
    {
        var live = await DocumentAsync();
        var copy = Path.Combine(RepositoryRoot(), "src", "Scheduler.Client", "openapi.json");
        if (Environment.GetEnvironmentVariable("SCHEDULER_UPDATE_OPENAPI") == "1")
            await File.WriteAllTextAsync(copy, live);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(live), JsonNode.Parse(await File.ReadAllTextAsync(copy))),
            "src/Scheduler.Client/openapi.json differs from /swagger/v1/swagger.json: run the tests with SCHEDULER_UPDATE_OPENAPI=1 and rebuild.");
    }

    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Scheduler.sln")))
                return dir.FullName;
        throw new InvalidOperationException("Scheduler.sln not found above " + AppContext.BaseDirectory);
    }
}
