using System.Diagnostics;
using System.Text.Json.Nodes;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using Scheduler.Infrastructure.Templates;
using Scheduler.Modules.Audit.Contracts;
using Scheduler.Modules.Dags.Contracts;
using Scheduler.Modules.Runs.Engine;

namespace Scheduler.Modules.Runs;

/// <summary>
/// A manual run of the DAG's current version. <c>conf</c> is merged over the DAG's
/// <c>params</c>; <c>logical_date</c> defaults to now (moved on by a microsecond if another run
/// holds that instant, so a trigger without a date never conflicts). The same explicit logical
/// date twice is a 409, so a retried trigger request cannot start a second run.
/// </summary>
internal static class TriggerDagRun
{
    public sealed record Request(JsonObject? Conf, DateTimeOffset? LogicalDate);

    public sealed record Command(string DagName, JsonObject? Conf, DateTimeOffset? LogicalDate, string? Actor) : ICommand<Result>;

    public sealed record Result(bool DagFound, long? RunId);

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator() =>
            RuleFor(c => c.Conf).Must(c => c!.ToJsonString().Length <= 1_000_000).WithMessage("'conf' must be at most 1 MB of JSON.").When(c => c.Conf is not null);
    }

    public sealed class Handler(ISender sender, TriggerBatcher batcher, TimeProvider clock, AuditTrail audit) : ICommandHandler<Command, Result>
    {
        public async ValueTask<Result> Handle(Command command, CancellationToken cancellationToken)
        {
            var plan = await sender.Send(new GetDagPlan(command.DagName), cancellationToken);
            if (plan is null)
                return new Result(false, null);
            CheckParams(plan, command.Conf);
            var logicalDate = (command.LogicalDate ?? clock.GetUtcNow()).ToUniversalTime();
            // The trigger request's trace (its caller's traceparent, when sent) is the run's parent.
            var parent = Activity.Current?.Context ?? default;
            var entry = audit.Entry("run.trigger", AuditTargets.Dag(plan.Name), new()
            {
                ["logical_date"] = command.LogicalDate is null ? null : Scheduler.Infrastructure.Json.InstantJsonConverter.Format(logicalDate),
                ["conf_keys"] = new JsonArray((command.Conf ?? []).Select(p => (JsonNode)p.Key).ToArray()),
            });
            var id = await batcher.CreateAsync(new NewRun(plan, logicalDate, "manual", command.Conf ?? [], command.Actor, parent, Audit: entry), dateChosen: command.LogicalDate is not null);
            return new Result(true, id);
        }
    }

    /// <summary>The merged params against the DAG's params_schema: a 400 keyed by path (<c>conf.limit</c>) when they fail it.</summary>
    private static void CheckParams(DagPlan plan, JsonObject? conf)
    {
        if (plan.Authoring?.ParamsSchema is not { } schema || !ParamsSchemas.TryBuild(schema, out var built, out _))
            return;
        var errors = ParamsSchemas.Check(built!, RunCreator.MergeParams(plan.Params, conf ?? []), "conf");
        if (errors.Count > 0)
            throw new ValidationException(errors.Select(e => new FluentValidation.Results.ValidationFailure(e.Path, $"params_schema: {e.Message}")));
    }

    /// <summary>Why a trigger with an explicit logical date created nothing (409).</summary>
    public static string Duplicate(string dag, DateTimeOffset? logicalDate) =>
        $"DAG '{dag}' already has a run for logical date {Scheduler.Infrastructure.Json.InstantJsonConverter.Format((logicalDate ?? default).ToUniversalTime())}.";

    public static RouteHandlerBuilder Map(RouteGroupBuilder api) => api
        .MapPost("/dags/{name}/runs", async Task<Results<Created<RunDetails>, ProblemHttpResult>> (string name, Request? request, ISender sender, HttpContext http, CancellationToken ct) =>
        {
            var result = await sender.Send(new Command(name, request?.Conf, request?.LogicalDate, http.User.Identity?.Name), ct);
            if (!result.DagFound)
                return Problems.NotFound($"No DAG named '{name}'.");
            if (result.RunId is not { } runId)
                return Problems.Conflict(Duplicate(name, request?.LogicalDate));
            var run = await sender.Send(new GetRun.Query(runId), ct);
            return TypedResults.Created($"/api/v1/runs/{runId}", run!);
        })
        .WithName("TriggerDagRun")
        .WithTags("Runs")
        .WithSummary("Trigger a run of a DAG, with optional conf and logical_date")
        .ProducesProblem(StatusCodes.Status404NotFound)
        .ProducesProblem(StatusCodes.Status409Conflict)
        .RequireDagRole(Roles.Operator);
}
