using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Scheduler.Infrastructure.OpenApi;

/// <summary>Request examples for the operations people try first in Swagger UI.</summary>
internal sealed class ExamplesFilter : IOperationFilter
{
    private const string SeedDag = """
        {
          "name": "daily_report",
          "cron": "0 9 * * *",
          "timezone": "Europe/Berlin",
          "tasks": [
            {"id": "fetch_data", "type": "http", "uri": "http://127.0.0.1:9/data"},
            {"id": "transform", "depends_on": ["fetch_data"]},
            {"id": "send_report", "depends_on": ["transform"]}
          ]
        }
        """;

    private static readonly Dictionary<string, string> Examples = new()
    {
        ["CreateDag"] = SeedDag,
        ["UpsertDag"] = SeedDag,
        ["ValidateDag"] = SeedDag,
        ["CreateApiKey"] = """{"name": "ci-deployer", "role": "operator", "expires_at": "2027-12-31T00:00:00Z"}""",
    };

    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var name = context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<IEndpointNameMetadata>().FirstOrDefault()?.EndpointName;
        if (name is null || !Examples.TryGetValue(name, out var example) || operation.RequestBody?.Content is null)
            return;
        foreach (var media in operation.RequestBody.Content.Values)
            if (media is OpenApiMediaType concrete)
                concrete.Example = JsonNode.Parse(example);
    }
}
