using System.Text.Json.Nodes;
using Scheduler.Infrastructure.OpenApi;

namespace Scheduler.Modules.Notifications.Channels;

/// <summary>
/// A channel as the API shows it. Secret settings (webhook URLs, tokens, passwords) are
/// write-only: encrypted at rest and never in a response; only their names are listed.
/// </summary>
internal static class ChannelResponses
{
    [SchemaName("Notifications.Channels.ManageChannels.DigestInfo")]
    public sealed record DigestInfo(string Cron, string Timezone, DateTimeOffset? NextAt);

    [SchemaName("Notifications.Channels.ManageChannels.Info")]
    public sealed record Info(string Name, string Type, JsonObject Settings, IReadOnlyList<string> SecretsSet, DigestInfo? Digest, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt,
        [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.Never)] string? Team);

    public static Info ToInfo(ChannelRow row) => new(
        row.Name, row.Type, row.Settings, row.SecretFields,
        row.DigestCron is null ? null : new DigestInfo(row.DigestCron, row.DigestTimezone ?? "UTC", row.DigestNextAt),
        row.CreatedAt, row.UpdatedAt, row.Team);
}
