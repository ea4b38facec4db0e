using System.Text.Json;
using System.Text.Json.Serialization;
using FluentValidation;
using Microsoft.EntityFrameworkCore;
using Scheduler.Infrastructure.Schedules;
using Scheduler.Infrastructure.Validation;
using Scheduler.Modules.Dags.Scheduling;

namespace Scheduler.Modules.Dags.Definitions;

/// <summary>A DAG's maintenance window as clients send it: <c>{"cron", "duration"}</c>.</summary>
internal sealed class MaintenanceWindowDefinition
{
    public string? Cron { get; set; }
    public TimeSpan? Duration { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? UnknownFields { get; set; }
}

/// <summary>Where the validator learns which of these calendars exist.</summary>
internal interface ICalendarNames
{
    ValueTask<IReadOnlySet<string>> ExistingAsync(IReadOnlyCollection<string> names, CancellationToken cancellationToken);
}

/// <summary>The stored calendars, for the validator.</summary>
internal sealed class StoredCalendarNames(DagsDbContext db) : ICalendarNames
{
    public async ValueTask<IReadOnlySet<string>> ExistingAsync(IReadOnlyCollection<string> names, CancellationToken cancellationToken) =>
        (await db.Calendars.Where(c => names.Contains(c.Name)).Select(c => c.Name).ToListAsync(cancellationToken)).ToHashSet(StringComparer.Ordinal);
}

/// <summary>
/// The DAG fields that shape its schedule beyond cron: <c>exclude_calendars</c> (each must
/// exist) and <c>maintenance_windows</c> (a cron in the DAG's zone and a duration).
/// </summary>
internal sealed class ScheduleRulesValidator : AbstractValidator<DagDefinition>
{
    public const int MaxCalendars = 20;
    public const int MaxWindows = 20;
    public static readonly TimeSpan MinWindow = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan MaxWindow = TimeSpan.FromDays(7);

    public ScheduleRulesValidator(ICalendarNames calendars)
    {
        RuleFor(d => d.ExcludeCalendars).Must(c => c!.Count <= MaxCalendars).WithMessage($"at most {MaxCalendars} calendars.")
            .When(d => d.ExcludeCalendars is not null);
        RuleForEach(d => d.ExcludeCalendars).NotEmpty().Matches(Names.Pattern()).WithMessage($"a calendar name must match {Names.PatternText}.");
        RuleFor(d => d.MaintenanceWindows).Must(w => w!.Count <= MaxWindows).WithMessage($"at most {MaxWindows} maintenance windows.")
            .When(d => d.MaintenanceWindows is not null);
        RuleFor(d => d).Custom((d, ctx) =>
        {
            var zone = d.Timezone is not null && TimeZones.TryFind(d.Timezone, out var z) ? z : TimeZoneInfo.Utc;
            for (var i = 0; i < (d.MaintenanceWindows?.Count ?? 0); i++)
            {
                var window = d.MaintenanceWindows![i];
                var path = $"maintenance_windows[{i}]";
                if (window is null)
                {
                    ctx.AddFailure(path, "a maintenance window is an object {\"cron\", \"duration\"}.");
                    continue;
                }
                DagDefinitionValidator.UnknownFields(ctx, path + ".", window.UnknownFields);
                if (string.IsNullOrWhiteSpace(window.Cron))
                    ctx.AddFailure(path + ".cron", "a maintenance window needs 'cron' (when it opens).");
                else if (!CronSchedule.TryParse(window.Cron, zone, out _, out var error))
                    ctx.AddFailure(path + ".cron", $"invalid cron expression '{window.Cron}': {error}");
                if (window.Duration is not { } duration)
                    ctx.AddFailure(path + ".duration", "a maintenance window needs 'duration' (how long it stays open).");
                else if (duration < MinWindow || duration > MaxWindow)
                    ctx.AddFailure(path + ".duration", "'duration' must be between 1 second and 7 days.");
            }
            var names = d.ExcludeCalendars ?? [];
            for (var i = 0; i < names.Count; i++)
                if (names.IndexOf(names[i]) < i)
                    ctx.AddFailure($"exclude_calendars[{i}]", $"'{names[i]}' is listed twice.");
        });
        RuleFor(d => d).CustomAsync(async (d, ctx, ct) =>
        {
            var names = d.ExcludeCalendars?.Where(n => !string.IsNullOrEmpty(n)).Distinct().ToList() ?? [];
            if (names.Count == 0 || names.Count > MaxCalendars)
                return;
            var known = await calendars.ExistingAsync(names, ct);
            for (var i = 0; i < d.ExcludeCalendars!.Count; i++)
                if (!string.IsNullOrEmpty(d.ExcludeCalendars[i]) && !known.Contains(d.ExcludeCalendars[i]))
                    ctx.AddFailure($"exclude_calendars[{i}]", $"unknown calendar '{d.ExcludeCalendars[i]}'; create it first (PUT /api/v1/calendars/{d.ExcludeCalendars[i]}).");
        });
    }
}

/// <summary>Builds a definition's <see cref="FireRules"/>, the input of <see cref="FireTimes"/>.</summary>
internal static class ScheduleRules
{
    /// <summary>The definition's rules without its calendars (those change without the DAG changing); null without a schedule.</summary>
    public static FireRules? Of(DagDefinition d, ISchedule? schedule, TimeZoneInfo zone) =>
        schedule is null ? null : new FireRules(schedule, d.StartDate, d.EndDate, [], WindowsOf(d, zone));

    /// <summary>The rules with the calendars the DAG excludes, from a snapshot of all calendars; a calendar gone meanwhile excludes nothing.</summary>
    public static FireRules WithCalendars(FireRules rules, DagDefinition d, IReadOnlyDictionary<string, ExclusionCalendar> calendars) =>
        d.ExcludeCalendars is not { Count: > 0 } names ? rules
            : rules with { Calendars = names.Select(n => calendars.GetValueOrDefault(n)).OfType<ExclusionCalendar>().ToList() };

    private static List<MaintenanceWindow> WindowsOf(DagDefinition d, TimeZoneInfo zone)
    {
        var windows = new List<MaintenanceWindow>();
        foreach (var w in d.MaintenanceWindows ?? [])
            if (w?.Cron is not null && w.Duration is { } duration && CronSchedule.TryParse(w.Cron, zone, out var opens, out _))
                windows.Add(new MaintenanceWindow(w.Cron, opens!, duration));
        return windows;
    }
}
