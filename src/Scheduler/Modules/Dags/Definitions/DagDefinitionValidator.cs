using System.Text.Json;
using System.Text.RegularExpressions;
using FluentValidation;
using FluentValidation.Results;
using Scheduler.Infrastructure.Validation;
using Scheduler.Infrastructure.Schedules;

namespace Scheduler.Modules.Dags.Definitions;

/// <summary>Where the validator learns which task types exist (built-ins plus plugins).</summary>
internal interface ITaskTypeSource
{
    ValueTask<IReadOnlySet<string>> GetTypesAsync(CancellationToken cancellationToken);
}

/// <summary>
/// Every rule a definition must satisfy before it is stored. Errors are keyed by the JSON
/// path the client wrote (<c>tasks[2].depends_on[0]</c>) and all of them are reported at
/// once, so one round trip shows everything to fix.
/// </summary>
internal sealed partial class DagDefinitionValidator : AbstractValidator<DagDefinition>
{
    public const int MaxTasks = 10_000;
    public const int MaxDependenciesPerTask = 1_000;
    public const int MaxDependencies = 100_000;

    private static readonly TimeSpan MaxDuration = TimeSpan.FromDays(365);

    public DagDefinitionValidator(ITaskTypeSource taskTypes, ScheduleRulesValidator scheduleRules)
    {
        Include(scheduleRules);
        RuleFor(d => d.Name).NotEmpty().Matches(Names.Pattern()).WithMessage("'name' must match ^[A-Za-z0-9_.-]{1,200}$.");
        RuleFor(d => d.Description).MaximumLength(10_000);
        RuleFor(d => d.Owner).MaximumLength(200);
        RuleFor(d => d.Tags).Must(t => t!.Count <= 50).WithMessage("at most 50 tags.").When(d => d.Tags is not null);
        RuleForEach(d => d.Tags).NotEmpty().MaximumLength(100);
        RuleFor(d => d.Timezone).Must(tz => TimeZones.TryFind(tz!, out _))
            .WithMessage(d => $"'{d.Timezone}' is not an IANA time zone (e.g. 'UTC', 'Europe/Berlin').")
            .When(d => d.Timezone is not null);
        RuleFor(d => d.Cron).Custom((cron, ctx) =>
        {
            var zone = ZoneOf(ctx.InstanceToValidate);
            if (cron is not null && !CronSchedule.TryParse(cron, zone, out _, out var error))
                ctx.AddFailure("cron", $"invalid cron expression '{cron}': {error}");
        });
        RuleFor(d => d.Interval).Must(i => i >= TimeSpan.FromSeconds(1) && i <= MaxDuration && i.Value.Ticks % TimeSpan.TicksPerSecond == 0)
            .WithMessage("'interval' must be a whole number of seconds between 1 second and 365 days.").When(d => d.Interval is not null);
        RuleFor(d => d.Interval).Null().WithMessage("give either 'cron' or 'interval', not both.").When(d => d.Cron is not null);
        RuleFor(d => d.EndDate).GreaterThan(d => d.StartDate).When(d => d.StartDate is not null && d.EndDate is not null)
            .WithMessage("'end_date' must be after 'start_date'.");
        RuleFor(d => d.MaxCatchupRuns).InclusiveBetween(1, 10_000);
        RuleFor(d => d.MaxActiveRuns).InclusiveBetween(1, 10_000);
        RuleFor(d => d.MaxActiveTasks).InclusiveBetween(1, 100_000);
        RuleFor(d => d.MaxMapLength).InclusiveBetween(1, AuthoringRules.MaxMapLengthCap);
        RuleFor(d => d.Defaults!).SetValidator(new TaskDefaultsValidator()).When(d => d.Defaults is not null);
        RuleForEach(d => d.Notifications).SetValidator(new NotificationRuleValidator());
        RuleFor(d => d.Sla).InclusiveBetween(TimeSpan.FromSeconds(1), TimeSpan.FromDays(30)).WithMessage("'sla' must be between 1 second and 30 days.");
        RuleFor(d => d.Timeout).InclusiveBetween(TimeSpan.FromSeconds(1), TimeSpan.FromDays(30)).WithMessage("'timeout' must be between 1 second and 30 days.");
        RuleFor(d => d.Tasks).NotEmpty().WithMessage("a DAG needs at least one task.");
        RuleFor(d => d.Tasks).Must(t => t!.Count <= MaxTasks).WithMessage($"at most {MaxTasks} tasks.").When(d => d.Tasks is not null);
        RuleForEach(d => d.Tasks).NotNull().SetValidator(new TaskDefinitionValidator());
        RuleFor(d => d).Custom((d, ctx) =>
        {
            UnknownFields(ctx, "", d.UnknownFields);
            UnknownFields(ctx, "defaults.", d.Defaults?.UnknownFields);
            for (var i = 0; i < (d.Notifications?.Count ?? 0); i++)
                UnknownFields(ctx, $"notifications[{i}].", d.Notifications![i]?.UnknownFields);
        });
        RuleFor(d => d).Custom(CheckGraph);
        AuthoringRules.Apply(this);
        AssetRules.Apply(this);
        RuleFor(d => d).CustomAsync(async (d, ctx, ct) =>
        {
            if (d.Tasks is null)
                return;
            var known = await taskTypes.GetTypesAsync(ct);
            for (var i = 0; i < d.Tasks.Count; i++)
            {
                var task = d.Tasks[i];
                if (task is null)
                    continue;
                if (!known.Contains(task.EffectiveType))
                    ctx.AddFailure($"tasks[{i}].type", $"unknown task type '{task.EffectiveType}'; known: {string.Join(", ", known.Order())}.");
                else if (TaskTypes.BuiltIn.Contains(task.EffectiveType))
                {
                    UnknownFields(ctx, $"tasks[{i}].", task.ExtraFields);
                    foreach (var (field, owner) in TaskDefinitionValidator.ForeignFields(task))
                        ctx.AddFailure($"tasks[{i}].{field}", $"'{field}' is a {owner} field; this task's type is '{task.EffectiveType}'.");
                }
            }
        });
    }

    private static TimeZoneInfo ZoneOf(DagDefinition d) =>
        d.Timezone is not null && TimeZones.TryFind(d.Timezone, out var zone) ? zone : TimeZoneInfo.Utc;

    internal static void UnknownFields(ValidationContext<DagDefinition> ctx, string prefix, Dictionary<string, JsonElement>? fields)
    {
        if (fields is null)
            return;
        foreach (var name in fields.Keys)
            ctx.AddFailure(new ValidationFailure(prefix + name, $"unknown field '{name}'."));
    }

    /// <summary>Duplicate ids, unknown and self dependencies, dependency limits and cycles.</summary>
    private static void CheckGraph(DagDefinition d, ValidationContext<DagDefinition> ctx)
    {
        if (d.Tasks is null || d.Tasks.Count > MaxTasks)
            return;
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < d.Tasks.Count; i++)
        {
            var id = d.Tasks[i]?.Id;
            if (string.IsNullOrEmpty(id))
                continue;
            if (!index.TryAdd(id, i))
                ctx.AddFailure($"tasks[{i}].id", $"duplicate task id '{id}' (also tasks[{index[id]}]).");
        }

        var graph = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        var total = 0;
        var valid = true;
        for (var i = 0; i < d.Tasks.Count; i++)
        {
            var task = d.Tasks[i];
            if (task is null || string.IsNullOrEmpty(task.Id) || index[task.Id] != i)
                continue;
            var deps = task.DependsOn ?? [];
            total += deps.Count;
            if (deps.Count > MaxDependenciesPerTask)
            {
                ctx.AddFailure($"tasks[{i}].depends_on", $"at most {MaxDependenciesPerTask} dependencies per task.");
                valid = false;
                continue;
            }
            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (var j = 0; j < deps.Count; j++)
            {
                var dep = deps[j];
                var path = $"tasks[{i}].depends_on[{j}]";
                if (string.IsNullOrEmpty(dep))
                {
                    valid = false; // reported by the task validator; no graph to walk
                    continue;
                }
                if (dep == task.Id)
                {
                    ctx.AddFailure(path, $"task '{dep}' depends on itself.");
                    valid = false;
                }
                else if (!index.ContainsKey(dep))
                {
                    ctx.AddFailure(path, $"unknown dependency '{dep}': no task has that id.");
                    valid = false;
                }
                else if (!seen.Add(dep))
                {
                    ctx.AddFailure(path, $"'{dep}' is listed twice.");
                }
            }
            graph[task.Id] = deps;
        }
        if (total > MaxDependencies)
        {
            ctx.AddFailure("tasks", $"at most {MaxDependencies} dependencies in one DAG (found {total}).");
            return;
        }
        if (!valid)
            return;
        if (DagGraph.FindCycle(graph) is { } cycle)
            ctx.AddFailure($"tasks[{index[cycle[0]]}].depends_on", $"dependency cycle: {string.Join(" -> ", cycle)}.");
    }
}

internal sealed class TaskDefaultsValidator : AbstractValidator<TaskDefaults>
{
    public TaskDefaultsValidator()
    {
        RetryFields.Apply(this, d => d.Retries, d => d.RetryDelay, d => d.RetryBackoff, d => d.MaxRetryDelay, d => d.Timeout, d => d.Pool, d => d.Priority);
    }
}

/// <summary>The retry, timeout, pool and priority fields shared by tasks and DAG defaults.</summary>
internal static class RetryFields
{
    public static void Apply<T>(AbstractValidator<T> v,
        System.Linq.Expressions.Expression<Func<T, int?>> retries,
        System.Linq.Expressions.Expression<Func<T, TimeSpan?>> retryDelay,
        System.Linq.Expressions.Expression<Func<T, string?>> backoff,
        System.Linq.Expressions.Expression<Func<T, TimeSpan?>> maxRetryDelay,
        System.Linq.Expressions.Expression<Func<T, TimeSpan?>> timeout,
        System.Linq.Expressions.Expression<Func<T, string?>> pool,
        System.Linq.Expressions.Expression<Func<T, int?>> priority)
    {
        v.RuleFor(retries).InclusiveBetween(0, 100);
        v.RuleFor(retryDelay).InclusiveBetween(TimeSpan.Zero, TimeSpan.FromDays(7));
        v.RuleFor(backoff).Must(b => b is null || b is "exponential" or "fixed").WithMessage("'retry_backoff' must be 'exponential' or 'fixed'.");
        v.RuleFor(maxRetryDelay).InclusiveBetween(TimeSpan.Zero, TimeSpan.FromDays(7));
        v.RuleFor(timeout).InclusiveBetween(TimeSpan.FromSeconds(1), TimeSpan.FromDays(7)).WithMessage("'timeout' must be between 1 second and 7 days.");
        v.RuleFor(pool).Matches(Names.Pattern()).WithMessage("'pool' must match ^[A-Za-z0-9_.-]{1,200}$.");
        v.RuleFor(priority).InclusiveBetween(-1_000_000, 1_000_000);
    }
}

internal sealed class NotificationRuleValidator : AbstractValidator<NotificationRule>
{
    private static readonly IReadOnlyList<string> Events = Notifications.Contracts.NotificationEvents.RuleEvents;

    public NotificationRuleValidator()
    {
        RuleFor(r => r.On).NotEmpty();
        RuleForEach(r => r.On).Must(e => Events.Contains(e)).WithMessage(r => $"'on' values are {string.Join(", ", Events)}.");
        RuleFor(r => r.Channel).NotEmpty().Matches(Names.Pattern());
    }
}

internal sealed partial class TaskDefinitionValidator : AbstractValidator<TaskDefinition>
{
    private static readonly string[] Methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
    private static readonly Dictionary<string, string[]> FieldsOf = new()
    {
        [TaskTypes.Shell] = ["command", "env", "working_dir", "skip_exit_code"],
        [TaskTypes.Http] = ["uri", "method", "headers", "body", "expect_status"],
        [TaskTypes.Sql] = ["connection", "statement"],
        [TaskTypes.Wait] = ["until", "delay", "http", "signal"],
    };

    public TaskDefinitionValidator()
    {
        RuleFor(t => t.Id).NotEmpty().Matches(Names.Pattern()).WithMessage("'id' must match ^[A-Za-z0-9_.-]{1,200}$.");
        RuleFor(t => t.TriggerRule).Must(r => r is null || TriggerRules.All.Contains(r))
            .WithMessage(t => $"unknown trigger rule '{t.TriggerRule}'; one of {string.Join(", ", TriggerRules.All)}.");
        RuleForEach(t => t.DependsOn).NotEmpty();
        RuleFor(t => t.MaxMapLength).InclusiveBetween(1, AuthoringRules.MaxMapLengthCap);
        RetryFields.Apply(this, t => t.Retries, t => t.RetryDelay, t => t.RetryBackoff, t => t.MaxRetryDelay, t => t.Timeout, t => t.Pool, t => t.Priority);

        When(t => t.EffectiveType == TaskTypes.Shell, () =>
        {
            RuleFor(t => t.Command).NotEmpty().WithMessage("a shell task needs 'command'.").MaximumLength(100_000);
            RuleFor(t => t.SkipExitCode).InclusiveBetween(1, 255);
            RuleForEach(t => t.Env).Must(kv => EnvName().IsMatch(kv.Key))
                .WithMessage((_, kv) => $"'{kv.Key}' is not a valid environment variable name.");
        });
        When(t => t.EffectiveType == TaskTypes.Http, () =>
        {
            RuleFor(t => t.Uri).NotEmpty().WithMessage("an http task needs 'uri'.");
            RuleFor(t => t.Uri).Must(u => Uri.TryCreate(u, UriKind.Absolute, out var uri) && (uri.Scheme == "http" || uri.Scheme == "https"))
                .WithMessage(t => $"'{t.Uri}' is not an absolute http(s) URI.").When(t => !string.IsNullOrEmpty(t.Uri));
            RuleFor(t => t.Method).Must(m => Methods.Contains(m!.ToUpperInvariant()))
                .WithMessage($"'method' must be one of {string.Join(", ", Methods)}.").When(t => t.Method is not null);
            RuleForEach(t => t.ExpectStatus).InclusiveBetween(100, 599);
        });
        When(t => t.EffectiveType == TaskTypes.Sql, () =>
        {
            RuleFor(t => t.Connection).NotEmpty().WithMessage("a sql task needs 'connection' (a stored connection's name).");
            RuleFor(t => t.Statement).NotEmpty().WithMessage("a sql task needs 'statement'.");
        });
        When(t => t.EffectiveType == TaskTypes.Wait, () => RuleFor(t => t).Custom(WaitRules.Check));
    }

    /// <summary>Fields of another built-in type set on this task: almost always a mistake (a shell 'uri').</summary>
    public static IEnumerable<(string Field, string OwnerType)> ForeignFields(TaskDefinition t) =>
        from kv in FieldsOf
        where kv.Key != t.EffectiveType
        from field in kv.Value
        where IsSet(t, field)
        select (field, kv.Key);

    private static bool IsSet(TaskDefinition t, string field) => field switch
    {
        "command" => t.Command is not null,
        "env" => t.Env is not null,
        "working_dir" => t.WorkingDir is not null,
        "skip_exit_code" => t.SkipExitCode is not null,
        "uri" => t.Uri is not null,
        "method" => t.Method is not null,
        "headers" => t.Headers is not null,
        "body" => t.Body is not null,
        "expect_status" => t.ExpectStatus is not null,
        "connection" => t.Connection is not null,
        "statement" => t.Statement is not null,
        "until" => t.Until is not null,
        "delay" => t.Delay is not null,
        "http" => t.Http is not null,
        "signal" => t.Signal is not null,
        _ => false,
    };

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex EnvName();
}
