using System.Text.Json;
using Grpc.Core;
using Mediator;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using Scheduler.Infrastructure.Json;
using Scheduler.Infrastructure.Rpc;
using Scheduler.Modules.Dags.Definitions;
using Scheduler.Rpc.V1;

namespace Scheduler.Modules.Dags;

/// <summary>
/// <c>scheduler.v1.DagService</c> (protos/dags.proto): each method sends the REST endpoint's
/// Mediator request, so validation, audit (actor = the caller's key) and every rule are the
/// REST API's own; this class only translates messages and results.
/// </summary>
internal sealed class DagRpcService(ISender sender) : DagService.DagServiceBase
{
    [RpcPolicy(Policies.Admin)]
    public override async Task<UpsertDagResponse> Upsert(UpsertDagRequest request, ServerCallContext context)
    {
        DagDefinition? definition = null;
        if (request.DefinitionJson.Length > 0)
            definition = JsonSerializer.Deserialize<DagDefinition>(request.DefinitionJson, JsonConventions.Options);
        if (definition is not null)
            definition.Name ??= request.Name;
        var result = await sender.Send(new UpsertDag.Command(request.Name, definition, context.GetHttpContext().User.Identity?.Name), context.CancellationToken);
        if (result.OwnedBy is { } owner)
            throw RpcInterceptor.FromProblem(Problems.Conflict(DagStore.OwnedMessage(request.Name, owner)));
        return new UpsertDagResponse { Dag = ToMessage(result.Dag), Created = result.Created, Changed = result.Changed };
    }

    [RpcPolicy(Policies.Viewer)]
    public override async Task<Rpc.V1.Dag> Get(GetDagRequest request, ServerCallContext context) =>
        await sender.Send(new GetDag.Query(request.Name), context.CancellationToken) is { } dag
            ? ToMessage(dag)
            : throw NotFound(request.Name);

    [RpcPolicy(Policies.Viewer)]
    public override async Task<ListDagsResponse> List(ListDagsRequest request, ServerCallContext context)
    {
        var page = await sender.Send(new ListDags.Query(request.Limit == 0 ? null : request.Limit, Empty(request.Cursor), Empty(request.Tag),
            request.HasPaused ? request.Paused : null, Empty(request.Q)), context.CancellationToken);
        var response = new ListDagsResponse { NextCursor = page.NextCursor ?? "" };
        response.Dags.AddRange(page.Items.Select(d => new Rpc.V1.Dag
        {
            Name = d.Name, Description = d.Description ?? "", Owner = d.Owner ?? "", Paused = d.Paused, Version = d.Version,
            Cron = d.Cron ?? "", Interval = d.Interval ?? "", Timezone = d.Timezone, TaskCount = d.TaskCount,
            NextRunAt = RpcTime.From(d.NextRunAt), LastRunState = d.LastRunState ?? "", UpdatedAt = RpcTime.From(d.UpdatedAt), Tags = { d.Tags },
        }));
        return response;
    }

    [RpcPolicy(Policies.Operator)]
    public override Task<Rpc.V1.Dag> Pause(PauseDagRequest request, ServerCallContext context) => SetPausedAsync(request.Name, true, context);

    [RpcPolicy(Policies.Operator)]
    public override Task<Rpc.V1.Dag> Unpause(PauseDagRequest request, ServerCallContext context) => SetPausedAsync(request.Name, false, context);

    private async Task<Rpc.V1.Dag> SetPausedAsync(string name, bool paused, ServerCallContext context) =>
        await sender.Send(new PauseDag.Command(name, paused), context.CancellationToken) is { } dag ? ToMessage(dag) : throw NotFound(name);

    private static RpcException NotFound(string name) => RpcInterceptor.FromProblem(Problems.NotFound($"No DAG named '{name}'."));

    private static string? Empty(string value) => value.Length == 0 ? null : value;

    private static Rpc.V1.Dag ToMessage(DagDetails d) => new()
    {
        Name = d.Name, Description = d.Description ?? "", Owner = d.Owner ?? "", Paused = d.Paused, Version = d.Version, Hash = d.Hash,
        Cron = d.Cron ?? "", Interval = d.Interval ?? "", Timezone = d.Timezone, NextRunAt = RpcTime.From(d.NextRunAt), LastRunState = d.LastRunState ?? "",
        UpdatedAt = RpcTime.From(d.UpdatedAt), TaskCount = d.Definition.Tasks?.Count ?? 0, Tags = { d.Tags },
        DefinitionJson = JsonSerializer.Serialize(d.Definition, JsonConventions.Options),
    };
}
