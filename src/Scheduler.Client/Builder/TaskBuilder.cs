using System.Text.Json.Nodes;

namespace Scheduler.Client.Builder;

/// <summary>One task of a <see cref="DagBuilder"/>: its type (noop unless set), dependencies and policies.</summary>
public sealed class TaskBuilder
{
    private static readonly HashSet<string> TriggerRules = ["all_success", "all_failed", "all_done", "one_success", "one_failed", "none_failed", "always"];
    private readonly JsonObject _task;
    private readonly IReadOnlySet<string> _declared;

    internal TaskBuilder(string id, IReadOnlySet<string> declared)
    {
        _task = new JsonObject { ["id"] = id };
        _declared = declared;
    }

    public string Id => _task["id"]!.GetValue<string>();

    /// <summary>Runs after these tasks, which must be declared before this one.</summary>
    public TaskBuilder DependsOn(params string[] upstream)
    {
        var list = _task["depends_on"] as JsonArray ?? (JsonArray)(_task["depends_on"] = new JsonArray());
        foreach (var id in upstream)
        {
            if (id == Id)
                throw new ArgumentException($"Task '{Id}' cannot depend on itself (a cycle).", nameof(upstream));
            if (!_declared.Contains(id))
                throw new ArgumentException($"Task '{Id}' depends on '{id}', which is not declared before it.", nameof(upstream));
            if (list.All(n => n!.GetValue<string>() != id))
                list.Add(id);
        }
        return this;
    }

    /// <summary>A shell command (<c>bash -c</c>).</summary>
    public TaskBuilder Shell(string command, IReadOnlyDictionary<string, string>? env = null)
    {
        OfType("shell");
        _task["command"] = NotEmpty(command, nameof(command));
        if (env is not null)
            _task["env"] = new JsonObject(env.Select(e => KeyValuePair.Create(e.Key, (JsonNode?)e.Value)));
        return this;
    }

    /// <summary>An HTTP request; <paramref name="expectStatus"/> lists the statuses that count as success.</summary>
    public TaskBuilder Http(Uri uri, string method = "GET", JsonNode? body = null, IReadOnlyDictionary<string, string>? headers = null, params int[] expectStatus)
    {
        if (!uri.IsAbsoluteUri || uri.Scheme is not ("http" or "https"))
            throw new ArgumentException($"Task '{Id}': '{uri}' is not an absolute http(s) URI.", nameof(uri));
        OfType("http");
        _task["uri"] = uri.AbsoluteUri;
        _task["method"] = NotEmpty(method, nameof(method)).ToUpperInvariant();
        if (body is not null)
            _task["body"] = body.DeepClone();
        if (headers is not null)
            _task["headers"] = new JsonObject(headers.Select(h => KeyValuePair.Create(h.Key, (JsonNode?)h.Value)));
        if (expectStatus.Length > 0)
            _task["expect_status"] = new JsonArray(expectStatus.Select(s => (JsonNode?)s).ToArray());
        return this;
    }

    /// <summary>A SQL statement on a stored connection.</summary>
    public TaskBuilder Sql(string connection, string statement)
    {
        OfType("sql");
        _task["connection"] = Names.Check(connection, nameof(connection));
        _task["statement"] = NotEmpty(statement, nameof(statement));
        return this;
    }

    /// <summary>A plugin's task type with its own fields.</summary>
    public TaskBuilder Plugin(string type, JsonObject? fields = null)
    {
        OfType(NotEmpty(type, nameof(type)));
        foreach (var (name, value) in fields ?? [])
            _task[name] = value?.DeepClone();
        return this;
    }

    public TaskBuilder Retries(int retries, TimeSpan? delay = null, string? backoff = null)
    {
        _task["retries"] = retries >= 0 ? retries : throw new ArgumentOutOfRangeException(nameof(retries), retries, "Retries cannot be negative.");
        if (delay is { } d)
            _task["retry_delay"] = DagBuilder.Duration(d);
        if (backoff is not null)
            _task["retry_backoff"] = backoff is "fixed" or "exponential" ? backoff : throw new ArgumentException("Backoff is 'fixed' or 'exponential'.", nameof(backoff));
        return this;
    }

    public TaskBuilder Timeout(TimeSpan timeout)
    {
        _task["timeout"] = timeout > TimeSpan.Zero ? DagBuilder.Duration(timeout) : throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "A timeout must be positive.");
        return this;
    }

    public TaskBuilder Pool(string pool)
    {
        _task["pool"] = Names.Check(pool, nameof(pool));
        return this;
    }

    public TaskBuilder Priority(int priority)
    {
        _task["priority"] = priority;
        return this;
    }

    /// <summary>When the task runs given its upstreams' states (Airflow's rules: all_success, one_failed, all_done, ...).</summary>
    public TaskBuilder TriggerRule(string rule)
    {
        _task["trigger_rule"] = TriggerRules.Contains(rule) ? rule : throw new ArgumentException($"Unknown trigger rule '{rule}'.", nameof(rule));
        return this;
    }

    internal JsonObject ToJson() => _task;

    private void OfType(string type)
    {
        if (_task["type"] is { } existing)
            throw new InvalidOperationException($"Task '{Id}' is a '{existing}' task already.");
        _task["type"] = type;
    }

    private string NotEmpty(string value, string parameter) =>
        !string.IsNullOrWhiteSpace(value) ? value : throw new ArgumentException($"Task '{Id}': '{parameter}' cannot be empty.", parameter);
}
