using System.Text.Json.Nodes;

namespace Scheduler.Abstractions;

/// <summary>
/// Runs one attempt of one task type. The worker owns everything around the attempt
/// (claiming, the lease, the timeout, cancellation, retries, recording the outcome);
/// an executor only executes. Implementations must be thread-safe: one instance serves
/// every attempt of its type concurrently.
/// </summary>
/// <remarks>
/// Plugins: a public, non-abstract class implementing this interface with a public
/// parameterless constructor (or one taking <see cref="IServiceProvider"/>), in an assembly
/// in the configured plugins folder, is loaded at start-up under its <see cref="Type"/>.
/// </remarks>
public interface ITaskExecutor
{
    /// <summary>The task <c>type</c> this executor handles, e.g. <c>shell</c>.</summary>
    string Type { get; }

    /// <summary>
    /// Executes the attempt. <paramref name="cancellationToken"/> fires when the attempt
    /// times out, its run is cancelled, or the server shuts down: stop promptly (kill child
    /// processes, abort requests). Throwing fails the attempt with the exception's message.
    /// </summary>
    Task<TaskOutcome> ExecuteAsync(TaskExecutionContext context, CancellationToken cancellationToken);
}

/// <summary>Everything an attempt may know about itself.</summary>
public sealed class TaskExecutionContext
{
    public required long RunId { get; init; }
    public required string DagName { get; init; }
    public required string TaskId { get; init; }
    /// <summary>1 for the first attempt.</summary>
    public required int Attempt { get; init; }
    public required DateTimeOffset LogicalDate { get; init; }
    /// <summary><c>{run_id}:{task_id}:{attempt}</c>: the same for a retried delivery of this attempt, so tasks can deduplicate.</summary>
    public required string IdempotencyKey { get; init; }
    /// <summary>The task's definition as JSON (snake_case), including a plugin's own fields.</summary>
    public required JsonObject Task { get; init; }
    /// <summary>The run's parameters: the DAG's <c>params</c> with the trigger's <c>conf</c> merged over them.</summary>
    public required JsonObject Params { get; init; }
    /// <summary>Where the attempt's log goes; what is written is visible while the task runs.</summary>
    public required ITaskLog Log { get; init; }
    /// <summary>Resolves a stored connection's secret by name (for <c>sql</c> and plugins).</summary>
    public required IConnectionResolver Connections { get; init; }
    /// <summary>
    /// The timeout the DAG definition sets for this task (its own or the DAG's default), or
    /// null when it sets none. The worker enforces it through the cancellation token; an
    /// executor reads it only to know whether a limit of its own (an HTTP request timeout,
    /// say) should apply.
    /// </summary>
    public TimeSpan? Timeout { get; init; }
    /// <summary>
    /// The W3C <c>traceparent</c> of this attempt's span (its run's trace), for executors that
    /// call out to other systems and want them in the same trace. HttpClient requests made
    /// while the attempt runs carry it already; a shell task gets it as <c>TRACEPARENT</c>.
    /// </summary>
    public string? TraceParent { get; init; }
}

/// <summary>The attempt's log. Writes are buffered and size-capped by the worker.</summary>
public interface ITaskLog
{
    void Write(string text);
    void WriteLine(string line) => Write(line + "\n");
}

public interface IConnectionResolver
{
    /// <summary>The decrypted connection (kind and connection string), or null when no such connection exists.</summary>
    Task<ResolvedConnection?> ResolveAsync(string name, CancellationToken cancellationToken);
}

public sealed record ResolvedConnection(string Name, string Kind, string ConnectionString);

public enum TaskOutcomeKind
{
    Success,
    Failed,
    /// <summary>The task decided it had nothing to do (shell exit code 99 by default).</summary>
    Skipped,
}

/// <summary>The result of an attempt. <see cref="Code"/> is an exit code or an HTTP status.</summary>
public sealed record TaskOutcome(TaskOutcomeKind Kind, int? Code = null, string? Error = null)
{
    /// <summary>The most an output may take as JSON text (UTF-8 bytes); a larger one fails the attempt.</summary>
    public const int MaxOutputBytes = 1024 * 1024;

    /// <summary>
    /// The attempt's output: one JSON value, stored with the attempt and readable by downstream
    /// templates as <c>outputs.&lt;task_id&gt;</c> (docs/authoring.md). Null when it produced none.
    /// </summary>
    public JsonNode? Output { get; init; }

    public static TaskOutcome Success(int? code = null) => new(TaskOutcomeKind.Success, code);
    public static TaskOutcome Failed(string error, int? code = null) => new(TaskOutcomeKind.Failed, code, error);
    public static TaskOutcome Skipped(int? code = null) => new(TaskOutcomeKind.Skipped, code);
}
