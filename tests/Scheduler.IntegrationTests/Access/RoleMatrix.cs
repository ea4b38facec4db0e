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
        ["GET /api/v1/teams"] = Viewer,
        ["GET /api/v1/teams/{name}"] = Viewer,
        ["PUT /api/v1/teams/{name}"] = Admin,
        ["DELETE /api/v1/teams/{name}"] = Admin,
    };

    /// <summary>
    /// How team roles apply (docs/operations.md, Teams); operations not named here take global
    /// roles only (a caller with team roles only gets 403). <see cref="Scope.Object"/>: one object
    /// that may belong to a team; the effective role is the higher of the global role and the role
    /// in the object's team, and a caller with neither gets 404. <see cref="Scope.List"/>: any team
    /// role may call it and gets its teams' objects. <see cref="Scope.Create"/>: admin in the team
    /// named in the body.
    /// </summary>
    public enum Scope { Global, Object, List, Create }

    public static readonly IReadOnlyDictionary<string, Scope> TeamScopes = new Dictionary<string, Scope>(StringComparer.Ordinal)
    {
        ["GET /api/v1/dags"] = Scope.List,
        ["POST /api/v1/dags/validate"] = Scope.List,
        ["GET /api/v1/events/stream"] = Scope.List,
        ["GET /api/v1/dags/{name}/runs"] = Scope.List,
        ["GET /api/v1/dags/{name}/status"] = Scope.List,
        ["GET /api/v1/dags/{name}/backfills"] = Scope.List,
        ["GET /api/v1/connections"] = Scope.List,
        ["GET /api/v1/variables"] = Scope.List,
        ["GET /api/v1/channels"] = Scope.List,
        ["GET /api/v1/monitors"] = Scope.List,
        ["GET /api/v1/teams"] = Scope.List,
        ["POST /api/v1/dags"] = Scope.Create,
        ["POST /api/v1/connections"] = Scope.Create,
        ["POST /api/v1/channels"] = Scope.Create,
        ["POST /api/v1/monitors"] = Scope.Create,
        ["GET /api/v1/teams/{name}"] = Scope.Object,
        ["GET /api/v1/dags/{name}"] = Scope.Object,
        ["PUT /api/v1/dags/{name}"] = Scope.Object,
        ["DELETE /api/v1/dags/{name}"] = Scope.Object,
        ["POST /api/v1/dags/{name}/pause"] = Scope.Object,
        ["POST /api/v1/dags/{name}/unpause"] = Scope.Object,
        ["GET /api/v1/dags/{name}/versions"] = Scope.Object,
        ["GET /api/v1/dags/{name}/versions/{version}"] = Scope.Object,
        ["GET /api/v1/dags/{name}/schedule"] = Scope.Object,
        ["POST /api/v1/dags/{name}/runs"] = Scope.Object,
        ["POST /api/v1/dags/{name}/backfills"] = Scope.Object,
        ["GET /api/v1/backfills/{id}"] = Scope.Object,
        ["POST /api/v1/backfills/{id}/cancel"] = Scope.Object,
        ["GET /api/v1/runs/{runId}"] = Scope.Object,
        ["POST /api/v1/runs/{runId}/cancel"] = Scope.Object,
        ["POST /api/v1/runs/{runId}/tasks/{taskId}/clear"] = Scope.Object,
        ["POST /api/v1/runs/{runId}/tasks/{taskId}/mark"] = Scope.Object,
        ["POST /api/v1/runs/{runId}/tasks/{taskId}/signal"] = Scope.Object,
        ["GET /api/v1/runs/{runId}/tasks/{taskId}/logs"] = Scope.Object,
        ["GET /api/v1/runs/{runId}/tasks/{taskId}/output"] = Scope.Object,
        ["GET /api/v1/connections/{name}"] = Scope.Object,
        ["PUT /api/v1/connections/{name}"] = Scope.Object,
        ["DELETE /api/v1/connections/{name}"] = Scope.Object,
        ["GET /api/v1/variables/{name}"] = Scope.Object,
        ["PUT /api/v1/variables/{name}"] = Scope.Object,
        ["DELETE /api/v1/variables/{name}"] = Scope.Object,
        ["GET /api/v1/channels/{name}"] = Scope.Object,
        ["PUT /api/v1/channels/{name}"] = Scope.Object,
        ["DELETE /api/v1/channels/{name}"] = Scope.Object,
        ["POST /api/v1/channels/{name}/test"] = Scope.Object,
        ["GET /api/v1/monitors/{name}"] = Scope.Object,
        ["PUT /api/v1/monitors/{name}"] = Scope.Object,
        ["DELETE /api/v1/monitors/{name}"] = Scope.Object,
        ["GET /api/v1/monitors/{name}/pings"] = Scope.Object,
        ["POST /api/v1/monitors/{name}/pause"] = Scope.Object,
        ["POST /api/v1/monitors/{name}/unpause"] = Scope.Object,
        ["POST /api/v1/monitors/{name}/token"] = Scope.Object,
    };

    /// <summary>
    /// What a caller with only <paramref name="teamRole"/> in one team gets: on an object of that
    /// team (<paramref name="ownTeam"/>) or of another. Null when allowed, else 403 or 404.
    /// </summary>
    public static HttpStatusCode? TeamRefusal(string method, string template, string teamRole, bool ownTeam)
    {
        var required = For(method, template);
        if (required == Token)
            return null;
        return TeamScopes.GetValueOrDefault($"{method.ToUpperInvariant()} {template}", Scope.Global) switch
        {
            Scope.Global => HttpStatusCode.Forbidden,
            Scope.List => null,
            Scope.Create => ownTeam && Rank(teamRole) >= Rank(required) ? null : HttpStatusCode.Forbidden,
            _ when !ownTeam => HttpStatusCode.NotFound,
            _ => Rank(teamRole) >= Rank(required) ? null : HttpStatusCode.Forbidden,
        };
    }

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
