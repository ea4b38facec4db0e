using System.Text.Json;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using Scheduler.Infrastructure.Json;
using Mediator;

namespace Scheduler.Modules.Runs.Events;

/// <summary>
/// <c>GET /events/stream</c>: Server-Sent Events of run and task state changes, optionally of
/// one DAG (<c>dag</c>) or one run (<c>run</c>). Each event's <c>id</c> is its position; a client
/// that reconnects with <c>Last-Event-ID</c> first gets what it missed from the event log (kept
/// <c>Events:RetentionHours</c>), then the live events, with nothing lost or repeated between them.
/// </summary>
internal static class StreamEvents
{
    private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);

    /// <summary>The JSON of an event's data line.</summary>
    internal sealed record Data(string Id, string Kind, DateTimeOffset At, string Dag, long RunId, string? TaskId, string State, int? MapIndex);

    public static RouteHandlerBuilder Map(RouteGroupBuilder api) => api
        .MapGet("/events/stream", async (HttpContext http, EventHub hub, ISender sender, IHostApplicationLifetime lifetime, string? dag, long? run, CancellationToken requestAborted) =>
        {
            var last = http.Request.Headers["Last-Event-ID"].ToString();
            EventPosition? resume = null;
            if (last.Length > 0)
            {
                if (!EventPosition.TryParse(last, out var position))
                    return (IResult)TypedResults.ValidationProblem(
                        new Dictionary<string, string[]> { ["Last-Event-ID"] = ["not an event id of this stream (the 'id' of an event it sent, e.g. '1234.56')."] },
                        detail: "Last-Event-ID: not an event id of this stream.", title: "Validation failed", type: Problems.TypeBase + "validation");
                resume = position;
            }
            // A caller with team roles only gets the events of its teams' DAGs (read again every few seconds).
            VisibleDags? visible = null;
            if (TeamAccess.Of(http.User).VisibleTeams() is { } teams)
                await (visible = new VisibleDags(sender, teams)).RefreshAsync(requestAborted);
            // A stream ends when its client goes or the server stops (the client then reconnects elsewhere).
            using var both = CancellationTokenSource.CreateLinkedTokenSource(requestAborted, lifetime.ApplicationStopping);
            try
            {
                await WriteAsync(http, hub, dag, run, visible, resume, both.Token);
            }
            catch (OperationCanceledException) when (both.IsCancellationRequested)
            {
            }
            catch (IOException) when (requestAborted.IsCancellationRequested)
            {
            }
            return Results.Empty;
        })
        .WithName("StreamEvents")
        .WithTags("Events")
        .WithSummary("Server-Sent Events of run and task state changes")
        .WithDescription("text/event-stream; event types 'task' and 'run'; each event's data is JSON. Reconnect with Last-Event-ID to get what was missed (within Events:RetentionHours).")
        .Produces(StatusCodes.Status200OK, contentType: "text/event-stream")
        .ProducesValidationProblem()
        .RequireAuthorization(Policies.TeamViewer);

    private static async Task WriteAsync(HttpContext http, EventHub hub, string? dag, long? runId, VisibleDags? visible, EventPosition? resume, CancellationToken ct)
    {
        bool Matches(RunEvent e) => (dag is null || e.Dag == dag) && (runId is null || e.RunId == runId) && (visible is null || visible.Contains(e.Dag));
        using var subscription = await hub.SubscribeAsync(Matches, ct);
        var response = http.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        await response.WriteAsync(": connected\nretry: 1000\n\n", ct);
        await response.Body.FlushAsync(ct);
        if (resume is { } from)
        {
            await foreach (var e in hub.ReplayAsync(from, subscription.Boundary, dag, runId, ct))
                if (Matches(e))
                    await SendAsync(response, e, ct);
            await response.Body.FlushAsync(ct);
        }
        var reader = subscription.Live.Reader;
        var wroteAt = Environment.TickCount64;
        while (!ct.IsCancellationRequested)
        {
            if (visible is { Due: true })
                await visible.RefreshAsync(ct);
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(ct);
            wait.CancelAfter(visible is null ? KeepAlive : VisibleDags.RefreshEvery);
            bool more;
            try
            {
                more = await reader.WaitToReadAsync(wait.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                if (Environment.TickCount64 - wroteAt >= (long)KeepAlive.TotalMilliseconds)
                {
                    await response.WriteAsync(": keep-alive\n\n", ct);
                    await response.Body.FlushAsync(ct);
                    wroteAt = Environment.TickCount64;
                }
                continue;
            }
            catch (InvalidOperationException)
            {
                return; // too slow: the client reconnects with its last id and replays the gap
            }
            if (!more)
                return;
            while (reader.TryRead(out var e))
                await SendAsync(response, e, ct);
            await response.Body.FlushAsync(ct);
            wroteAt = Environment.TickCount64;
        }
    }

    private static Task SendAsync(HttpResponse response, RunEvent e, CancellationToken ct) =>
        response.WriteAsync($"id: {e.Id}\nevent: {e.Kind}\ndata: {JsonSerializer.Serialize(new Data(e.Id, e.Kind, e.At, e.Dag, e.RunId, e.TaskId, e.State, e.MapIndex), JsonConventions.Options)}\n\n", ct);
}
