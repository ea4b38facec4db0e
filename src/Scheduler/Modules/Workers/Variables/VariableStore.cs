using System.Text.Json.Nodes;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Scheduler.Modules.Workers.Connections;

namespace Scheduler.Modules.Workers.Variables;

internal sealed class StoredVariable
{
    public required string Name { get; set; }
    /// <summary>JSON text; for a secret, that text encrypted with Data Protection.</summary>
    public required string Value { get; set; }
    public bool Secret { get; set; }
    public string? Description { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    /// <summary>The owning team, or null.</summary>
    public string? Team { get; set; }
}

/// <summary>
/// Every variable's value (decrypted) and the texts to mask in what tasks print (every
/// secret, whatever its team: masking more is safe). <see cref="Teams"/>: the team of each
/// variable that has one.
/// </summary>
internal sealed record VariableSet(JsonObject Values, IReadOnlyList<string> Secrets, IReadOnlyDictionary<string, string>? Teams = null)
{
    public static readonly VariableSet Empty = new([], []);

    /// <summary>
    /// The variables a DAG of <paramref name="team"/> may read as <c>vars.*</c>: those without a
    /// team and those of its own team (docs/operations.md, Teams); another team's is undefined.
    /// </summary>
    public JsonObject For(string? team)
    {
        if (Teams is not { Count: > 0 } teams)
            return Values;
        var visible = new JsonObject();
        foreach (var (name, value) in Values)
            if (!teams.TryGetValue(name, out var owner) || owner == team)
                visible[name] = value?.DeepClone();
        return visible;
    }
}

/// <summary>
/// Variables as attempts see them: read in one statement and kept for
/// <see cref="MaxAge"/>, so every attempt can mask every secret without a round trip of its own
/// (thousands of attempts a second, P3). A change made through this replica is seen at once;
/// one made through another replica within <see cref="MaxAge"/>.
/// </summary>
internal sealed class VariableStore(IDataProtectionProvider provider, IServiceScopeFactory scopes, TimeProvider time)
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(2);
    private readonly IDataProtector _protector = provider.CreateProtector("Scheduler.Variables.v1");
    private readonly SemaphoreSlim _reading = new(1, 1);
    private (VariableSet Set, long At)? _cached;

    public string Protect(string json) => _protector.Protect(json);

    public string Unprotect(string secret) => _protector.Unprotect(secret);

    /// <summary>Drops the snapshot: the next attempt reads the variables again.</summary>
    public void Invalidate() => _cached = null;

    public async ValueTask<VariableSet> GetAsync(CancellationToken cancellationToken)
    {
        if (_cached is { } hit && time.GetElapsedTime(hit.At) < MaxAge)
            return hit.Set;
        await _reading.WaitAsync(cancellationToken);
        try
        {
            if (_cached is { } again && time.GetElapsedTime(again.At) < MaxAge)
                return again.Set;
            var started = time.GetTimestamp();
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<ConnectionsDbContext>();
            var rows = await db.Variables.AsNoTracking().ToListAsync(cancellationToken);
            var values = new JsonObject();
            var secrets = new List<string>();
            var teams = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var row in rows)
            {
                if (row.Team is not null)
                    teams[row.Name] = row.Team;
                var json = row.Secret ? Unprotect(row.Value) : row.Value;
                var value = JsonNode.Parse(json);
                values[row.Name] = value;
                if (row.Secret)
                    secrets.AddRange(SecretTexts(value, json));
            }
            var set = rows.Count == 0 ? VariableSet.Empty : new VariableSet(values, secrets.Distinct(StringComparer.Ordinal).OrderByDescending(s => s.Length).ToList(), teams);
            _cached = (set, started);
            return set;
        }
        finally
        {
            _reading.Release();
        }
    }

    /// <summary>A string secret is masked as itself; another value as its JSON text and each string in it.</summary>
    private static IEnumerable<string> SecretTexts(JsonNode? value, string json)
    {
        if (value is JsonValue v && v.TryGetValue<string>(out var text))
        {
            if (text.Length > 0)
                yield return text;
            yield break;
        }
        yield return json;
        foreach (var leaf in Leaves(value))
            if (leaf.Length > 0)
                yield return leaf;
    }

    private static IEnumerable<string> Leaves(JsonNode? node) => node switch
    {
        JsonObject o => o.SelectMany(kv => Leaves(kv.Value)),
        JsonArray a => a.SelectMany(Leaves),
        JsonValue v when v.TryGetValue<string>(out var s) => [s],
        JsonValue v => [v.ToJsonString()],
        _ => [],
    };
}
