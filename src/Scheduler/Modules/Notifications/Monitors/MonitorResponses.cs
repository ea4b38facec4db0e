using System.Security.Cryptography;
using System.Text;
using Scheduler.Infrastructure.OpenApi;

namespace Scheduler.Modules.Notifications.Monitors;

/// <summary>
/// Monitors of external jobs (cron jobs, other schedulers): they ping start / success / fail
/// with a per-monitor token; a missing ping past its grace makes the monitor late. Only the
/// token's hash is stored: the token itself is shown once, when it is issued.
/// </summary>
internal static class MonitorResponses
{
    [SchemaName("Notifications.Monitors.ManageMonitors.Info")]
    public sealed record Info(
        string Name, string? Description, string? Cron, TimeSpan? Interval, string Timezone, TimeSpan Grace, IReadOnlyList<string> Channels,
        string State, bool Paused, DateTimeOffset? ExpectedAt, DateTimeOffset? DeadlineAt, DateTimeOffset? LastPingAt, DateTimeOffset? LastStartAt,
        DateTimeOffset? LastSuccessAt, DateTimeOffset? LastFailureAt, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, string PingPath,
        [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.Never)] string? Team);

    /// <summary>The response that issues a token: the only time the token is shown.</summary>
    [SchemaName("Notifications.Monitors.ManageMonitors.Created")]
    public sealed record Created(Info Monitor, string Token);

    public static Info ToInfo(MonitorRow m) => new(
        m.Name, m.Description, m.Cron, m.Interval, m.Timezone, m.Grace, m.Channels, m.Paused ? "paused" : m.State, m.Paused,
        m.ExpectedAt, m.DeadlineAt, m.LastPingAt, m.LastStartAt, m.LastSuccessAt, m.LastFailureAt, m.CreatedAt, m.UpdatedAt,
        $"/api/v1/monitors/{m.Name}/ping", m.Team);

    public static string NewToken() => Base64Url(RandomNumberGenerator.GetBytes(24));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
}
