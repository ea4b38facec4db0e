using System.Text.Json.Nodes;
using Scheduler.Infrastructure.OpenApi;

namespace Scheduler.Modules.Workers.Variables;

/// <summary>Variables as the API shows them: a secret's value is write-only (never in a response).</summary>
internal static class VariableResponses
{
    [SchemaName("Workers.Variables.Info")]
    public sealed record Info(string Name, JsonNode? Value, bool Secret, string? Description, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt,
        [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.Never)] string? Team);

    public static Info ToInfo(StoredVariable v) =>
        new(v.Name, v.Secret ? null : JsonNode.Parse(v.Value), v.Secret, v.Description, v.CreatedAt, v.UpdatedAt, v.Team);
}
