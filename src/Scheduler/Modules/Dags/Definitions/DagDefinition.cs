using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Scheduler.Modules.Dags.Definitions;

/// <summary>
/// A DAG as clients send it (docs/api.md). Every field is nullable so that a missing value
/// is reported by the validator with its path instead of failing deserialization; unknown
/// fields are captured and reported too, so a typo such as <c>depend_on</c> is never ignored.
/// </summary>
internal sealed class DagDefinition
{
    public string? Name { get; set; }
    public string? Description { get; set; }
    public List<string>? Tags { get; set; }
    public string? Owner { get; set; }
    /// <summary>The team that owns the DAG, its runs and versions (docs/operations.md, Teams), or null.</summary>
    public string? Team { get; set; }
    public string? Cron { get; set; }
    public TimeSpan? Interval { get; set; }
    public string? Timezone { get; set; }
    public DateTimeOffset? StartDate { get; set; }
    public DateTimeOffset? EndDate { get; set; }
    public bool? Catchup { get; set; }
    public int? MaxCatchupRuns { get; set; }
    public int? MaxActiveRuns { get; set; }
    public int? MaxActiveTasks { get; set; }
    public bool? Paused { get; set; }
    public JsonObject? Params { get; set; }
    /// <summary>A JSON Schema the run's merged params must satisfy (docs/authoring.md).</summary>
    public JsonObject? ParamsSchema { get; set; }
    public TaskDefaults? Defaults { get; set; }
    public List<NotificationRule>? Notifications { get; set; }
    /// <summary>A run not finished this long after its due time has missed its SLA.</summary>
    public TimeSpan? Sla { get; set; }
    /// <summary>A run still going this long after it started is failed, its tasks cancelled.</summary>
    public TimeSpan? Timeout { get; set; }
    /// <summary>Calendars whose excluded days this DAG does not fire on; rules in ScheduleRules.cs.</summary>
    public List<string>? ExcludeCalendars { get; set; }
    /// <summary>Runs due inside one of these are created when it ends; rules in ScheduleRules.cs.</summary>
    public List<MaintenanceWindowDefinition>? MaintenanceWindows { get; set; }
    /// <summary>A run (run_type 'asset') is created once each of these assets has a new event; rules in AssetRules.cs.</summary>
    public List<string>? ScheduleOnAssets { get; set; }
    /// <summary>The default cap on a mapped task's instances (docs/authoring.md "Mapping"); 1,024 when absent.</summary>
    public int? MaxMapLength { get; set; }
    public List<TaskDefinition>? Tasks { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? UnknownFields { get; set; }
}

internal sealed class TaskDefaults
{
    public int? Retries { get; set; }
    public TimeSpan? RetryDelay { get; set; }
    public string? RetryBackoff { get; set; }
    public TimeSpan? MaxRetryDelay { get; set; }
    public TimeSpan? Timeout { get; set; }
    public string? Pool { get; set; }
    public int? Priority { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? UnknownFields { get; set; }
}

internal sealed class NotificationRule
{
    public List<string>? On { get; set; }
    public string? Channel { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? UnknownFields { get; set; }
}

/// <summary>
/// One task. Built-in type fields are typed; a plugin type's own fields arrive in
/// <see cref="ExtraFields"/>, which for built-in types must stay empty.
/// </summary>
internal sealed class TaskDefinition
{
    public string? Id { get; set; }
    public string? Type { get; set; }
    public List<string>? DependsOn { get; set; }
    public string? TriggerRule { get; set; }
    public int? Retries { get; set; }
    public TimeSpan? RetryDelay { get; set; }
    public string? RetryBackoff { get; set; }
    public TimeSpan? MaxRetryDelay { get; set; }
    public TimeSpan? Timeout { get; set; }
    public string? Pool { get; set; }
    public int? Priority { get; set; }
    /// <summary>A branch task: its output <c>{"follow": [...]}</c> picks which direct downstream tasks run (docs/authoring.md).</summary>
    public bool? Branch { get; set; }
    /// <summary>Assets this task updates: each success records one event per URI (docs/scheduling.md, Assets).</summary>
    public List<string>? Outlets { get; set; }
    /// <summary>A template rendering to a JSON array: one instance of the task per element (docs/authoring.md "Mapping").</summary>
    public string? MapOver { get; set; }
    /// <summary>At most this many instances; more fails the task (default: the DAG's, else 1,024).</summary>
    public int? MaxMapLength { get; set; }

    // shell
    public string? Command { get; set; }
    public Dictionary<string, string>? Env { get; set; }
    public string? WorkingDir { get; set; }
    public int? SkipExitCode { get; set; }

    // http
    public string? Uri { get; set; }
    public string? Method { get; set; }
    public Dictionary<string, string>? Headers { get; set; }
    public JsonNode? Body { get; set; }
    public List<int>? ExpectStatus { get; set; }

    // sql
    public string? Connection { get; set; }
    public string? Statement { get; set; }

    // wait (exactly one of these; rules in WaitRules.cs)
    public string? Until { get; set; }
    public TimeSpan? Delay { get; set; }
    public WaitHttpDefinition? Http { get; set; }
    public bool? Signal { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? ExtraFields { get; set; }

    [JsonIgnore]
    public string EffectiveType => string.IsNullOrEmpty(Type) ? TaskTypes.Noop : Type;
}

/// <summary>A wait task's poke: GET <see cref="Uri"/> every <see cref="PokeInterval"/> until it answers one of <see cref="ExpectStatus"/>.</summary>
internal sealed class WaitHttpDefinition
{
    public string? Uri { get; set; }
    public List<int>? ExpectStatus { get; set; }
    public TimeSpan? PokeInterval { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? UnknownFields { get; set; }
}

internal static class TaskTypes
{
    public const string Noop = "noop";
    public const string Shell = "shell";
    public const string Http = "http";
    public const string Sql = "sql";
    public const string Wait = "wait";
    public static readonly IReadOnlySet<string> BuiltIn = new HashSet<string>(StringComparer.Ordinal) { Noop, Shell, Http, Sql, Wait };
}

internal static class TriggerRules
{
    public static readonly IReadOnlyList<string> All =
        ["all_success", "all_failed", "all_done", "one_success", "one_failed", "none_failed", "always"];
}
