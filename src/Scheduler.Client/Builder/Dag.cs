using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using System.Xml;

namespace Scheduler.Client.Builder;

/// <summary>
/// The fluent way to write a DAG: <c>Dag.Named("daily").Cron("0 9 * * *").Task("fetch", t =&gt; t.Http(uri)).Task("transform", t =&gt; t.DependsOn("fetch"))</c>.
/// </summary>
public static class Dag
{
    /// <summary>A new DAG; the name must match <c>^[A-Za-z0-9_.-]{1,200}$</c>, as the server's.</summary>
    public static DagBuilder Named(string name) => new(Names.Check(name, nameof(name)));
}

/// <summary>
/// Builds exactly the JSON that <c>POST /dags/validate</c> and <c>PUT /dags/{name}</c> take. Every
/// mistake the builder can see is an exception at the call that makes it, not a 400 later: a bad
/// name or cron expression, a task id used twice, a dependency on a task not declared yet. A task
/// may depend only on tasks declared before it, so a builder's graph cannot have a cycle.
/// </summary>
public sealed class DagBuilder
{
    private readonly JsonObject _dag;
    private readonly JsonArray _tasks = [];
    private readonly HashSet<string> _taskIds = new(StringComparer.Ordinal);

    internal DagBuilder(string name) => _dag = new JsonObject { ["name"] = name };

    public string Name => _dag["name"]!.GetValue<string>();

    public DagBuilder Description(string description) => Set("description", description);

    public DagBuilder Owner(string owner) => Set("owner", owner);

    public DagBuilder Tags(params string[] tags) => Set("tags", new JsonArray(tags.Select(t => (JsonNode?)t).ToArray()));

    /// <summary>A cron schedule: 5 fields, 6 with leading seconds, or a macro such as <c>@daily</c>.</summary>
    public DagBuilder Cron(string expression)
    {
        if (_dag.ContainsKey("interval"))
            throw new InvalidOperationException($"DAG '{Name}' has an interval already: give either a cron expression or an interval.");
        CronCheck.Check(expression);
        return Set("cron", expression);
    }

    /// <summary>A fixed interval between runs.</summary>
    public DagBuilder Interval(TimeSpan interval)
    {
        if (_dag.ContainsKey("cron"))
            throw new InvalidOperationException($"DAG '{Name}' has a cron expression already: give either a cron expression or an interval.");
        if (interval <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(interval), interval, "An interval must be positive.");
        return Set("interval", Duration(interval));
    }

    /// <summary>The IANA zone the schedule is read in (default UTC).</summary>
    public DagBuilder Timezone(string zone)
    {
        try
        {
            TimeZoneInfo.FindSystemTimeZoneById(zone);
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            throw new ArgumentException($"Unknown time zone '{zone}'.", nameof(zone), e);
        }
        return Set("timezone", zone);
    }

    public DagBuilder StartDate(DateTimeOffset start) => Set("start_date", start.ToUniversalTime().ToString("O"));

    public DagBuilder EndDate(DateTimeOffset end) => Set("end_date", end.ToUniversalTime().ToString("O"));

    public DagBuilder Catchup(bool catchup = true) => Set("catchup", catchup);

    public DagBuilder MaxActiveRuns(int runs) => Set("max_active_runs", Positive(runs, nameof(runs)));

    public DagBuilder MaxActiveTasks(int tasks) => Set("max_active_tasks", Positive(tasks, nameof(tasks)));

    public DagBuilder Paused(bool paused = true) => Set("paused", paused);

    /// <summary>A parameter with its default value; a trigger's conf overrides it.</summary>
    public DagBuilder Param(string name, JsonNode? value)
    {
        if (string.IsNullOrEmpty(name))
            throw new ArgumentException("A parameter needs a name.", nameof(name));
        var parameters = _dag["params"] as JsonObject ?? (JsonObject)(_dag["params"] = new JsonObject());
        parameters[name] = value?.DeepClone();
        return this;
    }

    /// <summary>Adds a task; without <paramref name="configure"/> it is a <c>noop</c> task.</summary>
    public DagBuilder Task(string id, Action<TaskBuilder>? configure = null)
    {
        Names.Check(id, nameof(id));
        if (_taskIds.Contains(id))
            throw new ArgumentException($"DAG '{Name}' has a task '{id}' already.", nameof(id));
        var task = new TaskBuilder(id, _taskIds);
        configure?.Invoke(task);
        _taskIds.Add(id);
        _tasks.Add(task.ToJson());
        return this;
    }

    /// <summary>The definition as JSON (a copy: changing it does not change the builder).</summary>
    public JsonObject ToJson()
    {
        if (_tasks.Count == 0)
            throw new InvalidOperationException($"DAG '{Name}' has no task.");
        var json = (JsonObject)_dag.DeepClone();
        json["tasks"] = _tasks.DeepClone();
        return json;
    }

    public string ToJsonString() => ToJson().ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true });

    private DagBuilder Set(string field, JsonNode? value)
    {
        _dag[field] = value;
        return this;
    }

    private static int Positive(int value, string name) =>
        value > 0 ? value : throw new ArgumentOutOfRangeException(name, value, "Must be at least 1.");

    /// <summary>ISO-8601, the server's duration format.</summary>
    internal static string Duration(TimeSpan value) => XmlConvert.ToString(value);
}

internal static partial class Names
{
    [GeneratedRegex("^[A-Za-z0-9_.-]{1,200}$")]
    private static partial Regex Pattern();

    public static string Check(string name, string parameter) =>
        name is not null && Pattern().IsMatch(name) ? name : throw new ArgumentException($"'{name}' is not a valid name: it must match ^[A-Za-z0-9_.-]{{1,200}}$.", parameter);
}
