using System.Text.Json;
using System.Text.Json.Nodes;
using FluentValidation;
using Scheduler.Infrastructure.Json;
using Scheduler.Infrastructure.Templates;
using Scheduler.Modules.Dags.Contracts;

namespace Scheduler.Modules.Dags.Definitions;

/// <summary>
/// The authoring fields' rules (docs/authoring.md), kept apart from the core validator: every
/// template field must parse as Liquid (an error keyed by its path, <c>tasks[1].command</c>,
/// <c>tasks[0].headers.Authorization</c>), and <c>params_schema</c> must be a JSON Schema.
/// </summary>
internal static class AuthoringRules
{
    /// <summary>The highest max_map_length a DAG may ask for: instances are rows, inserted in one statement.</summary>
    public const int MaxMapLengthCap = 100_000;

    public static void Apply(AbstractValidator<DagDefinition> validator)
    {
        validator.RuleFor(d => d).Custom((d, ctx) =>
        {
            for (var i = 0; i < (d.Tasks?.Count ?? 0); i++)
            {
                if (d.Tasks![i] is not { } task)
                    continue;
                foreach (var (path, text) in TemplateFields.Find(SpecOf(task), task.EffectiveType))
                    if (!Liquid.TryParse(text, out _, out var error))
                        ctx.AddFailure($"tasks[{i}].{path}", $"not a valid template: {error}");
            }
            for (var i = 0; i < (d.Tasks?.Count ?? 0); i++)
                if (d.Tasks![i] is { Branch: true } branch)
                {
                    if (branch.EffectiveType == TaskTypes.Noop)
                        ctx.AddFailure($"tasks[{i}].branch", "a noop task has no output to branch on; use a shell, http, sql or plugin task.");
                    else if (!d.Tasks.Any(t => t?.DependsOn?.Contains(branch.Id!) == true))
                        ctx.AddFailure($"tasks[{i}].branch", "a branch task needs direct downstream tasks to choose from.");
                }
            for (var i = 0; i < (d.Tasks?.Count ?? 0); i++)
                if (d.Tasks![i] is { MapOver: { } mapOver } mapped)
                {
                    if (string.IsNullOrWhiteSpace(mapOver))
                        ctx.AddFailure($"tasks[{i}].map_over", "'map_over' must be a template that renders to a JSON array, e.g. \"{{ params.regions | json }}\".");
                    else if (!Liquid.TryParse(mapOver, out _, out var error))
                        ctx.AddFailure($"tasks[{i}].map_over", $"not a valid template: {error}");
                    if (mapped.Branch == true)
                        ctx.AddFailure($"tasks[{i}].branch", "a mapped task cannot be a branch task (each instance would choose a way).");
                }
                else if (d.Tasks[i] is { MaxMapLength: not null })
                    ctx.AddFailure($"tasks[{i}].max_map_length", "'max_map_length' applies to a mapped task only; set 'map_over' too.");
            if (d.ParamsSchema is { } schema && !ParamsSchemas.TryBuild(schema, out _, out var schemaError))
                ctx.AddFailure("params_schema", $"not a valid JSON Schema: {schemaError}");
        });
    }

    /// <summary>The task as its plan's spec holds it (snake_case JSON, a plugin's own fields included).</summary>
    public static JsonObject SpecOf(TaskDefinition task) => JsonSerializer.SerializeToNode(task, JsonConventions.Options)!.AsObject();

    public static DagAuthoring ToPlan(DagDefinition d)
    {
        var zone = PreparedDefinition.ZoneOf(d);
        var schedule = PreparedDefinition.ScheduleOf(d, zone);
        return new DagAuthoring(zone, instant => schedule?.Next(instant), d.ParamsSchema?.DeepClone().AsObject());
    }
}
