using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Scheduler.Abstractions;
using Scheduler.Infrastructure.Json;
using Scheduler.Modules.Workers.Pool;

namespace Scheduler.Modules.Workers.Executors;

/// <summary>
/// One step of a wait: done (<see cref="Done"/> is the attempt's outcome) or parked until
/// <see cref="WakeAt"/> (null: until signalled or timed out) without a worker slot;
/// <see cref="Poke"/>: the wake-up is the next http poke, not the end of the wait.
/// </summary>
internal sealed record WaitStep(TaskOutcome? Done, DateTimeOffset? WakeAt = null, bool Poke = false);

/// <summary>
/// The <c>wait</c> task type (docs/scheduling.md). A step takes a slot only for as long as it
/// decides (and, for an http wait, for one poke); the worker then reports the task parked
/// and the scheduler loop wakes it. The task's timeout is the engine's: it fails a parked
/// wait at its deadline.
/// </summary>
internal sealed class WaitExecutor(IHttpClientFactory clients, IOptions<WorkerOptions> options, TimeProvider time) : ITaskExecutor
{
    public static readonly TimeSpan DefaultPokeInterval = TimeSpan.FromSeconds(60);
    private readonly HttpExecutor _http = new(clients, options, time);

    public string Type => "wait";

    /// <summary>Outside the worker pool (which parks) a wait cannot park: it only finishes when it need not wait.</summary>
    public async Task<TaskOutcome> ExecuteAsync(TaskExecutionContext context, CancellationToken cancellationToken) =>
        (await StepAsync(context, cancellationToken)).Done ?? TaskOutcome.Failed("a wait task parks between steps; only the worker pool can run it");

    public async Task<WaitStep> StepAsync(TaskExecutionContext context, CancellationToken cancellationToken)
    {
        var task = context.Task;
        var now = time.GetUtcNow();
        if (task["until"] is JsonValue until)
        {
            var text = until.ToString();
            if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var instant))
                return new WaitStep(TaskOutcome.Failed($"'until' is '{text}', which is not an ISO-8601 instant"));
            context.Log.WriteLine($"waiting until {instant.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}");
            return Until(instant, now);
        }
        if (task["delay"] is JsonValue delay)
        {
            var length = delay.TryGetValue<double>(out var seconds) ? TimeSpan.FromSeconds(seconds) : DurationJsonConverter.Parse(delay.ToString());
            if (length is not { } wait)
                return new WaitStep(TaskOutcome.Failed($"'delay' is '{delay}', which is not a duration"));
            context.Log.WriteLine($"waiting {XmlConvertDuration(wait)}");
            return Until(now + wait, now);
        }
        if (task["http"] is JsonObject http)
            return await PokeAsync(context, http, now, cancellationToken);
        context.Log.WriteLine("waiting for a signal (POST /runs/{id}/tasks/{task}/signal)");
        return new WaitStep(null);
    }

    private async Task<WaitStep> PokeAsync(TaskExecutionContext context, JsonObject http, DateTimeOffset now, CancellationToken ct)
    {
        var poke = new JsonObject { ["uri"] = http["uri"]?.DeepClone(), ["method"] = "GET" };
        if (http["expect_status"] is JsonArray statuses)
            poke["expect_status"] = statuses.DeepClone();
        var interval = http["poke_interval"] is JsonValue v ? DurationJsonConverter.Parse(v.ToString()) ?? DefaultPokeInterval : DefaultPokeInterval;
        // Timeout null: the poke waits at most Workers:HttpTimeoutSeconds, whatever the wait's own timeout.
        var outcome = await _http.ExecuteAsync(new TaskExecutionContext
        {
            RunId = context.RunId,
            DagName = context.DagName,
            TaskId = context.TaskId,
            Attempt = context.Attempt,
            LogicalDate = context.LogicalDate,
            IdempotencyKey = context.IdempotencyKey,
            Task = poke,
            Params = context.Params,
            Log = context.Log,
            Connections = context.Connections,
            Timeout = null,
            TraceParent = context.TraceParent,
        }, ct);
        var step = AfterPoke(outcome, now, interval);
        if (step.Done is null)
            context.Log.WriteLine($"not yet ({outcome.Error}); next poke at {step.WakeAt!.Value.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}");
        return step;
    }

    /// <summary>An instant already passed ends the wait at once; a later one parks it until then.</summary>
    public static WaitStep Until(DateTimeOffset instant, DateTimeOffset now) =>
        instant <= now ? new WaitStep(TaskOutcome.Success()) : new WaitStep(null, instant);

    /// <summary>A poke answered as expected ends the wait with the response as output; anything else pokes again after the interval.</summary>
    public static WaitStep AfterPoke(TaskOutcome outcome, DateTimeOffset now, TimeSpan interval) =>
        outcome.Kind == TaskOutcomeKind.Success ? new WaitStep(outcome) : new WaitStep(null, now + interval, Poke: true);

    private static string XmlConvertDuration(TimeSpan value) => System.Xml.XmlConvert.ToString(value);
}
