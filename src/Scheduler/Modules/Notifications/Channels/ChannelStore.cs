using System.Text.Json.Nodes;
using Microsoft.AspNetCore.DataProtection;
using Npgsql;

namespace Scheduler.Modules.Notifications.Channels;

/// <summary>A channel as senders need it: shown settings and decrypted secrets merged.</summary>
internal sealed record ChannelConfig(long Id, string Name, string Type, JsonObject Values, string? DigestMessageRef)
{
    public string? Text(string field) => Values[field]?.GetValueKind() == System.Text.Json.JsonValueKind.String ? Values[field]!.GetValue<string>() : null;

    public int Int(string field, int fallback) => Values[field] is JsonValue v && v.TryGetValue<int>(out var i) ? i : fallback;

    public IReadOnlyList<string> List(string field) =>
        Values[field] is JsonArray items ? items.Select(i => i!.GetValue<string>()).ToList() : [];
}

/// <summary>A stored channel row; <see cref="Secret"/> is ciphertext.</summary>
internal sealed record ChannelRow(
    long Id, string Name, string Type, JsonObject Settings, string? Secret, string[] SecretFields,
    string? DigestCron, string? DigestTimezone, DateTimeOffset? DigestNextAt, string? DigestMessageRef,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, string? Team = null);

/// <summary>Reads and writes channels; encrypts secrets with Data Protection (key ring in PostgreSQL).</summary>
internal sealed class ChannelStore(NpgsqlDataSource dataSource, IDataProtectionProvider protection)
{
    private readonly IDataProtector _protector = protection.CreateProtector("Scheduler.Notifications.Channels.v1");

    private const string Columns = "id, name, type, settings, secret, secret_fields, digest_cron, digest_timezone, digest_next_at, digest_message_ref, created_at, updated_at, team";

    public string Protect(JsonObject secrets) => _protector.Protect(secrets.ToJsonString());

    public JsonObject Unprotect(string? secret) =>
        secret is null ? [] : JsonNode.Parse(Scheduler.Infrastructure.Security.SecretProtection.Unprotect(_protector, secret))?.AsObject() ?? [];

    public ChannelConfig ToConfig(ChannelRow row)
    {
        var values = row.Settings.DeepClone().AsObject();
        foreach (var (key, value) in Unprotect(row.Secret))
            values[key] = value?.DeepClone();
        return new ChannelConfig(row.Id, row.Name, row.Type, values, row.DigestMessageRef);
    }

    public async Task<ChannelRow?> GetAsync(string name, CancellationToken ct) =>
        (await QueryAsync($"select {Columns} from notifications.channels where name = @p", name, ct)).FirstOrDefault();

    public async Task<ChannelRow?> GetAsync(long id, CancellationToken ct) =>
        (await QueryAsync($"select {Columns} from notifications.channels where id = @p", id, ct)).FirstOrDefault();

    /// <param name="visible">The teams the caller sees (TeamAccess.VisibleTeams(Roles.Admin)), null: all.</param>
    public async Task<IReadOnlyList<ChannelRow>> ListAsync(string? after, int limit, IReadOnlyList<string>? visible, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand(
            $"select {Columns} from notifications.channels where (@p::text is null or name > @p::text) and (@visible::text[] is null or team = any(@visible)) order by name limit {limit}");
        cmd.Parameters.AddWithValue("p", (object?)after ?? DBNull.Value);
        cmd.Parameters.Add(new NpgsqlParameter("visible", NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text) { Value = (object?)visible?.ToArray() ?? DBNull.Value });
        return await ReadAllAsync(cmd, ct);
    }

    /// <summary>Ids of the channels with these names (unknown names are absent).</summary>
    public async Task<Dictionary<string, long>> IdsAsync(IReadOnlyCollection<string> names, CancellationToken ct)
    {
        var ids = new Dictionary<string, long>(StringComparer.Ordinal);
        if (names.Count == 0)
            return ids;
        await using var cmd = dataSource.CreateCommand("select name, id from notifications.channels where name = any(@names)");
        cmd.Parameters.AddWithValue("names", names.Distinct().ToArray());
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            ids[reader.GetString(0)] = reader.GetInt64(1);
        return ids;
    }

    private async Task<List<ChannelRow>> QueryAsync(string sql, object parameter, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand(sql);
        cmd.Parameters.AddWithValue("p", parameter);
        return await ReadAllAsync(cmd, ct);
    }

    private static async Task<List<ChannelRow>> ReadAllAsync(NpgsqlCommand cmd, CancellationToken ct)
    {
        var rows = new List<ChannelRow>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            rows.Add(Read(reader));
        return rows;
    }

    private static ChannelRow Read(NpgsqlDataReader r) => new(
        r.GetInt64(0), r.GetString(1), r.GetString(2), JsonNode.Parse(r.GetString(3))!.AsObject(),
        r.IsDBNull(4) ? null : r.GetString(4), r.GetFieldValue<string[]>(5),
        r.IsDBNull(6) ? null : r.GetString(6), r.IsDBNull(7) ? null : r.GetString(7),
        r.IsDBNull(8) ? null : r.GetFieldValue<DateTimeOffset>(8), r.IsDBNull(9) ? null : r.GetString(9),
        r.GetFieldValue<DateTimeOffset>(10), r.GetFieldValue<DateTimeOffset>(11), r.IsDBNull(12) ? null : r.GetString(12));
}
