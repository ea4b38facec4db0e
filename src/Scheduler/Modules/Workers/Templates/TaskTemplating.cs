using System.Globalization;
using System.Text.Json.Nodes;
using Fluid.Values;
using Mediator;
using Scheduler.Abstractions;
using Scheduler.Infrastructure.Templates;
using Scheduler.Infrastructure.Text;
using Scheduler.Modules.Dags.Contracts;
using Scheduler.Modules.Runs.Contracts;
using Scheduler.Modules.Workers.Variables;

namespace Scheduler.Modules.Workers.Templates;

/// <summary>
/// Renders an attempt's template fields on the worker, just before it runs, with the variables
/// of docs/authoring.md. A task without markup costs nothing; upstream outputs are read only
/// when a template names <c>outputs</c>. An undefined variable throws <see cref="TemplateException"/>
/// naming the field, so the attempt fails with that in its log instead of running with a blank.
/// </summary>
internal sealed class TaskTemplating(VariableStore variables)
{
    private const string Instant = "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'";

    /// <summary>The task's spec rendered (a copy; the plan's is shared), and the secrets to mask in what it prints.</summary>
    public async ValueTask<(JsonObject Spec, IReadOnlyList<string> Secrets)> RenderAsync(ClaimedTask task, DagPlan dag, TaskPlan plan, ISender sender, CancellationToken ct)
    {
        var vars = await variables.GetAsync(ct);
        var spec = plan.Spec.DeepClone().AsObject();
        var templates = TemplateFields.Find(spec, plan.Type);
        if (templates.Count == 0)
            return (spec, vars.Secrets);
        var model = await ModelAsync(task, dag, vars, templates.Any(t => t.Text.Contains("outputs", StringComparison.Ordinal)), sender, ct);
        TemplateFields.Visit(spec, plan.Type, (path, text) =>
        {
            try
            {
                return Liquid.Render(text, model);
            }
            catch (TemplateException e)
            {
                throw new TemplateException($"template '{path}': {e.Message}", e);
            }
        });
        return (spec, vars.Secrets);
    }

    /// <summary>
    /// A mapped task's <c>map_over</c> rendered with the same variables as its fields (no
    /// <c>item</c>: it is what decides the items), and the secrets to mask in what is shown of it.
    /// </summary>
    public async ValueTask<(string Rendered, IReadOnlyList<string> Secrets)> RenderMapOverAsync(ClaimedTask task, DagPlan dag, string mapOver, ISender sender, CancellationToken ct)
    {
        var vars = await variables.GetAsync(ct);
        var model = await ModelAsync(task, dag, vars, mapOver.Contains("outputs", StringComparison.Ordinal), sender, ct);
        try
        {
            return (Liquid.Render(mapOver, model), vars.Secrets);
        }
        catch (TemplateException e)
        {
            throw new TemplateException($"template 'map_over': {e.Message}", e);
        }
    }

    /// <summary>The variables of a template; upstream outputs are read only when <paramref name="outputs"/> says a template names them.</summary>
    private static async ValueTask<Dictionary<string, FluidValue>> ModelAsync(ClaimedTask task, DagPlan dag, VariableSet vars, bool outputs, ISender sender, CancellationToken ct)
    {
        var model = Model(task, dag, vars);
        if (outputs)
        {
            var values = new JsonObject();
            foreach (var (id, json) in await sender.Send(new GetRunOutputs(task.RunId), ct))
                values[id] = JsonNode.Parse(json);
            model["outputs"] = Liquid.ToValue(values, "outputs");
        }
        // An instance of a mapped task sees its element and index; other tasks do not (strict: an error).
        if (task.MapIndex >= 0)
        {
            model["map_index"] = NumberValue.Create(task.MapIndex);
            model["item"] = Liquid.ToValue(task.MapItem is null ? null : JsonNode.Parse(task.MapItem), "item");
        }
        return model;
    }

    private static Dictionary<string, FluidValue> Model(ClaimedTask task, DagPlan dag, VariableSet vars)
    {
        var logical = task.LogicalDate.ToUniversalTime();
        var zone = dag.Authoring?.Zone ?? TimeZoneInfo.Utc;
        // Airflow's convention: a run's logical date opens its data interval, which ends at the next fire time.
        var end = dag.Authoring?.NextFire(logical) ?? logical;
        return new Dictionary<string, FluidValue>(StringComparer.Ordinal)
        {
            ["logical_date"] = new StringValue(logical.ToString(Instant, CultureInfo.InvariantCulture)),
            ["ds"] = new StringValue(TimeZoneInfo.ConvertTime(logical, zone).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)),
            ["data_interval_start"] = new StringValue(logical.ToString(Instant, CultureInfo.InvariantCulture)),
            ["data_interval_end"] = new StringValue(end.ToUniversalTime().ToString(Instant, CultureInfo.InvariantCulture)),
            ["run_id"] = NumberValue.Create(task.RunId),
            ["dag"] = new StringValue(task.DagName),
            ["task"] = new StringValue(task.TaskId),
            ["attempt"] = NumberValue.Create(task.Attempt),
            ["params"] = Liquid.ToValue(JsonNode.Parse(task.ParamsJson) ?? new JsonObject(), "params"),
            ["vars"] = Liquid.ToValue(vars.For(dag.Team), "vars"),
            ["outputs"] = Liquid.ToValue(new JsonObject(), "outputs"),
        };
    }

    /// <summary>
    /// An output as it is stored: every string cleaned for PostgreSQL and with secrets masked,
    /// as JSON text; null for none. Over <see cref="TaskOutcome.MaxOutputBytes"/> it is refused with the reason.
    /// </summary>
    public static (string? Json, string? Error) StoredOutput(JsonNode? output, IReadOnlyList<string> secrets)
    {
        if (output is null)
            return (null, null);
        var json = Clean(output, secrets)?.ToJsonString();
        if (json is null)
            return (null, null);
        var bytes = System.Text.Encoding.UTF8.GetByteCount(json);
        return bytes > TaskOutcome.MaxOutputBytes
            ? (null, $"the output is {bytes} bytes of JSON; outputs are capped at {TaskOutcome.MaxOutputBytes} bytes (1 MiB)")
            : (json, null);
    }

    private static JsonNode? Clean(JsonNode? node, IReadOnlyList<string> secrets) => node switch
    {
        JsonObject o => new JsonObject(o.Select(kv => KeyValuePair.Create(PostgresText.Clean(kv.Key), Clean(kv.Value, secrets)))),
        JsonArray a => new JsonArray(a.Select(n => Clean(n, secrets)).ToArray()),
        JsonValue v when v.TryGetValue<string>(out var s) => JsonValue.Create(SecretMask.MaskValues(PostgresText.Clean(s), secrets)),
        _ => node?.DeepClone(),
    };
}
