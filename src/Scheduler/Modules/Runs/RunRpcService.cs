using System.Text.Json;
using System.Text.Json.Nodes;
using FluentValidation;
using FluentValidation.Results;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Mediator;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using Scheduler.Infrastructure.Rpc;
using Scheduler.Modules.Runs.Engine;
using Scheduler.Modules.Runs.Events;
using Scheduler.Rpc.V1;

namespace Scheduler.Modules.Runs;

/// <summary>
/// <c>scheduler.v1.RunService</c> (protos/runs.proto): Trigger, Get and Cancel send the REST
/// endpoints' Mediator requests (same validation, same audit with the caller's key as actor);
/// Watch is a subscriber of the process's one <see cref="EventHub"/>, so a watcher costs no
/// query of its own: the hub reads each batch of the event log once for everyone.
/// </summary>
internal sealed class RunRpcService(ISender sender, EventHub hub, IHostApplicationLifetime lifetime) : RunService.RunServiceBase
{
    [RpcPolicy(Policies.Operator)]
    public override async Task<Run> Trigger(TriggerRunRequest request, ServerCallContext context)
    {
        var conf = Conf(request.ConfJson);
        var logicalDate = RpcTime.To(request.LogicalDate, "logical_date");
        var result = await sender.Send(new TriggerDagRun.Command(request.Dag, conf, logicalDate, context.GetHttpContext().User.Identity?.Name), context.CancellationToken);
        if (!result.DagFound)
            throw RpcInterceptor.FromProblem(Problems.NotFound($"No DAG named '{request.Dag}'."));
        if (result.RunId is not { } runId)
            throw new RpcException(new Grpc.Core.Status(StatusCode.AlreadyExists, TriggerDagRun.Duplicate(request.Dag, logicalDate)));
        return await GetAsync(runId, context);
    }

    [RpcPolicy(Policies.Viewer)]
    public override Task<Run> Get(GetRunRequest request, ServerCallContext context) => GetAsync(request.RunId, context);

    [RpcPolicy(Policies.Operator)]
    public override async Task<Run> Cancel(CancelRunRequest request, ServerCallContext context)
    {
        var result = await sender.Send(new CancelRun.Command(request.RunId), context.CancellationToken) ?? throw NotFound(request.RunId);
        if (!result.Cancelled)
            throw RpcInterceptor.FromProblem(Problems.Conflict($"Run {request.RunId} already ended ({result.State})."));
        return await GetAsync(request.RunId, context);
    }

    [RpcPolicy(Policies.Viewer)]
    public override async Task Watch(WatchRequest request, IServerStreamWriter<Rpc.V1.RunEvent> responseStream, ServerCallContext context)
    {
        EventPosition? resume = null;
        if (request.After.Length > 0)
        {
            if (!EventPosition.TryParse(request.After, out var position))
                throw new ValidationException([new ValidationFailure("after", "not an event id of this stream (the 'id' of an event it sent, e.g. '1234.56').")]);
            resume = position;
        }
        long? runId = request.RunId == 0 ? null : request.RunId;
        var dag = request.Dag.Length == 0 ? null : request.Dag;
        using var both = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        var ct = both.Token;
        using var subscription = await hub.SubscribeAsync(e => (dag is null || e.Dag == dag) && (runId is null || e.RunId == runId), ct);
        // Subscribed first, then looked at: a run that ends after this look ends the watch live.
        if (runId is { } id)
        {
            var run = await sender.Send(new GetRun.Query(id), ct) ?? throw NotFound(id);
            if (RunStates.IsFinal(run.State) && resume is null)
                return; // nothing more will happen to it
        }
        try
        {
            if (resume is { } from)
                await foreach (var e in hub.ReplayAsync(from, subscription.Boundary, dag, runId, ct))
                    if (!await SendAsync(e))
                        return;
            await foreach (var e in subscription.Live.Reader.ReadAllAsync(ct))
                if (!await SendAsync(e))
                    return;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (InvalidOperationException)
        {
            // Fell 10,000 events behind: the watch ends; the client resumes with its last id.
            throw new RpcException(new Grpc.Core.Status(StatusCode.Unavailable, "The watcher fell too far behind; resume with the id of the last event received."));
        }

        // False once the watched run's final event is sent.
        async Task<bool> SendAsync(Events.RunEvent e)
        {
            var message = new Rpc.V1.RunEvent
            {
                Id = e.Id, Kind = e.Kind, At = Timestamp.FromDateTimeOffset(e.At), Dag = e.Dag, RunId = e.RunId, TaskId = e.TaskId ?? "", State = e.State,
            };
            if (e.MapIndex is { } mapIndex)
                message.MapIndex = mapIndex;
            await responseStream.WriteAsync(message, ct);
            return !(runId is not null && e.TaskId is null && RunStates.IsFinal(e.State));
        }
    }

    private async Task<Run> GetAsync(long runId, ServerCallContext context)
    {
        var run = await sender.Send(new GetRun.Query(runId), context.CancellationToken) ?? throw NotFound(runId);
        var message = new Run
        {
            RunId = run.RunId, Dag = run.DagName, DagVersion = run.DagVersion, LogicalDate = Timestamp.FromDateTimeOffset(run.LogicalDate),
            RunType = run.RunType, State = run.State, ConfJson = run.Conf?.ToJsonString() ?? "{}", QueuedAt = Timestamp.FromDateTimeOffset(run.QueuedAt),
            StartedAt = RpcTime.From(run.StartedAt), FinishedAt = RpcTime.From(run.FinishedAt), CreatedBy = run.CreatedBy ?? "", TraceId = run.TraceId ?? "",
        };
        message.Tasks.AddRange(run.Tasks.Select(t => new Rpc.V1.TaskInstance
        {
            TaskId = t.TaskId, State = t.State, Attempt = t.Attempt, MaxAttempts = t.MaxAttempts, Pool = t.Pool, StartedAt = RpcTime.From(t.StartedAt), FinishedAt = RpcTime.From(t.FinishedAt),
        }));
        return message;
    }

    /// <summary>conf_json: empty, or a JSON object (a 400 keyed <c>conf_json</c> otherwise, as REST keys <c>conf</c>).</summary>
    private static JsonObject? Conf(string json)
    {
        if (json.Length == 0)
            return null;
        try
        {
            return JsonNode.Parse(json) as JsonObject ?? throw new ValidationException([new ValidationFailure("conf_json", "must be a JSON object.")]);
        }
        catch (JsonException e)
        {
            throw new ValidationException([new ValidationFailure("conf_json", $"is not JSON: {e.Message}")]);
        }
    }

    private static RpcException NotFound(long runId) => RpcInterceptor.FromProblem(Problems.NotFound($"No run {runId}."));
}
