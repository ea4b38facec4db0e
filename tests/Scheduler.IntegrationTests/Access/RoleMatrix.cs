using System.Net;

namespace Scheduler.IntegrationTests.Access;

/// <summary>
/// Who may call what: the role matrix of docs/api.md, one entry per operation of the OpenAPI
/// document (<c>METHOD /api/v1/template</c>). AuthTests checks that it names every operation
/// and enforces it on real requests; the fuzz test expects exactly these 401s and 403s.
/// </summary>
public static class RoleMatrix
{
    public const string None = "none";
    public const string Viewer = "viewer";
    public const string Operator = "operator";
    public const string Admin = "admin";
    /// <summary>Not an API key: the operation authenticates by a token of its own (a monitor's ping).</summary>
    public const string Token = "token";

    public static readonly IReadOnlyList<string> Roles = [None, Viewer, Operator, Admin];

    public static readonly IReadOnlyDictionary<string, string> Required = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["GET /api/v1/api-keys"] = Admin,
        ["POST /api/v1/api-keys"] = Admin,
        ["DELETE /api/v1/api-keys/{id}"] = Admin,
        ["GET /api/v1/connections"] = Admin,
        ["POST /api/v1/connections"] = Admin,
        ["GET /api/v1/connections/{name}"] = Admin,
        ["PUT /api/v1/connections/{name}"] = Admin,
        ["DELETE /api/v1/connections/{name}"] = Admin,
        ["GET /api/v1/dags"] = Viewer,
        ["POST /api/v1/dags"] = Admin,
        ["POST /api/v1/dags/validate"] = Viewer,
        ["POST /api/v1/dags/sync"] = Operator,
        ["GET /api/v1/dags/import-errors"] = Viewer,
        ["GET /api/v1/events/stream"] = Viewer,
        ["GET /api/v1/dags/{name}"] = Viewer,
        ["PUT /api/v1/dags/{name}"] = Admin,
        ["DELETE /api/v1/dags/{name}"] = Admin,
        ["POST /api/v1/dags/{name}/pause"] = Operator,
        ["POST /api/v1/dags/{name}/unpause"] = Operator,
        ["GET /api/v1/dags/{name}/versions"] = Viewer,
        ["GET /api/v1/dags/{name}/versions/{version}"] = Viewer,
        ["GET /api/v1/dags/{name}/schedule"] = Viewer,
        ["POST /api/v1/dags/{name}/runs"] = Operator,
        ["GET /api/v1/dags/{name}/runs"] = Viewer,
        ["GET /api/v1/dags/{name}/status"] = Viewer,
        ["GET /api/v1/monitors"] = Viewer,
        ["POST /api/v1/monitors"] = Admin,
        ["GET /api/v1/monitors/{name}"] = Viewer,
        ["PUT /api/v1/monitors/{name}"] = Admin,
        ["DELETE /api/v1/monitors/{name}"] = Admin,
        ["GET /api/v1/monitors/{name}/pings"] = Viewer,
        ["POST /api/v1/monitors/{name}/pause"] = Operator,
        ["POST /api/v1/monitors/{name}/unpause"] = Operator,
        ["POST /api/v1/monitors/{name}/token"] = Admin,
        ["POST /api/v1/monitors/{name}/ping"] = Token,
        ["GET /api/v1/channels"] = Admin,
        ["POST /api/v1/channels"] = Admin,
        ["GET /api/v1/channels/{name}"] = Admin,
        ["PUT /api/v1/channels/{name}"] = Admin,
        ["DELETE /api/v1/channels/{name}"] = Admin,
        ["POST /api/v1/channels/{name}/test"] = Admin,
        ["GET /api/v1/notifications/deliveries"] = Viewer,
        ["GET /api/v1/notifications/deliveries/{id}"] = Viewer,
        ["POST /api/v1/notifications/deliveries/{id}/retry"] = Operator,
        ["GET /api/v1/notifications/rules"] = Viewer,
        ["PUT /api/v1/notifications/rules"] = Admin,
        ["GET /api/v1/pools"] = Viewer,
        ["PUT /api/v1/pools/{name}"] = Admin,
        ["GET /api/v1/runs/{runId}"] = Viewer,
        ["POST /api/v1/runs/{runId}/cancel"] = Operator,
        ["POST /api/v1/runs/{runId}/tasks/{taskId}/clear"] = Operator,
        ["POST /api/v1/runs/{runId}/tasks/{taskId}/mark"] = Operator,
        ["POST /api/v1/runs/{runId}/tasks/{taskId}/signal"] = Operator,
        ["GET /api/v1/runs/{runId}/tasks/{taskId}/logs"] = Viewer,
        ["GET /api/v1/runs/{runId}/tasks/{taskId}/output"] = Viewer,
        ["GET /api/v1/variables"] = Viewer,
        ["GET /api/v1/variables/{name}"] = Viewer,
        ["PUT /api/v1/variables/{name}"] = Admin,
        ["DELETE /api/v1/variables/{name}"] = Admin,
        ["GET /api/v1/dead-letters"] = Viewer,
        ["POST /api/v1/dead-letters/{id}/requeue"] = Operator,
        ["GET /api/v1/workers"] = Viewer,
        ["GET /api/v1/calendars"] = Viewer,
        ["GET /api/v1/calendars/{name}"] = Viewer,
        ["PUT /api/v1/calendars/{name}"] = Admin,
        ["DELETE /api/v1/calendars/{name}"] = Admin,
        ["POST /api/v1/dags/{name}/backfills"] = Operator,
        ["GET /api/v1/dags/{name}/backfills"] = Viewer,
        ["GET /api/v1/backfills/{id}"] = Viewer,
        ["POST /api/v1/backfills/{id}/cancel"] = Operator,
        ["GET /api/v1/assets"] = Viewer,
        ["GET /api/v1/assets/events"] = Viewer,
        ["POST /api/v1/assets/events"] = Operator,
        ["GET /api/v1/audit"] = Admin,
        ["POST /api/v1/secrets/rotate"] = Admin,
        ["POST /api/v1/users/{name}/erase"] = Admin,
    };

    private static int Rank(string role) => role switch { Viewer => 1, Operator => 2, Admin => 3, _ => 0 };

    /// <summary>The least role an operation needs; fails for an operation the matrix does not name.</summary>
    public static string For(string method, string template) =>
        Required.TryGetValue($"{method.ToUpperInvariant()} {template}", out var role)
            ? role
            : throw new KeyNotFoundException($"{method} {template} is not in the role matrix (tests/Scheduler.IntegrationTests/Access/RoleMatrix.cs)");

    /// <summary>401 or 403 when <paramref name="role"/> may not call the operation, null when it may (or the operation takes no key).</summary>
    public static HttpStatusCode? Refusal(string method, string template, string role)
    {
        var required = For(method, template);
        if (required == Token)
            return null;
        if (role == None)
            return HttpStatusCode.Unauthorized;
        return Rank(role) >= Rank(required) ? null : HttpStatusCode.Forbidden;
    }
}
