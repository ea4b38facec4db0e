using FluentValidation;
using Scheduler.Infrastructure.Templates;

namespace Scheduler.Modules.Dags.Definitions;

/// <summary>
/// A wait task's rules (docs/scheduling.md): exactly one of <c>until</c>, <c>delay</c>,
/// <c>http</c> or <c>signal: true</c>, each error keyed by its field's path.
/// </summary>
internal static class WaitRules
{
    public static readonly TimeSpan MaxDelay = TimeSpan.FromDays(365);
    public static readonly TimeSpan MinPokeInterval = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan MaxPokeInterval = TimeSpan.FromDays(1);

    public static void Check(TaskDefinition t, ValidationContext<TaskDefinition> ctx)
    {
        var set = new (string Field, bool IsSet)[] { ("until", t.Until is not null), ("delay", t.Delay is not null), ("http", t.Http is not null), ("signal", t.Signal is not null) }
            .Where(f => f.IsSet).Select(f => f.Field).ToList();
        if (set.Count != 1)
        {
            ctx.AddFailure(set.Count == 0 ? "until" : set[1], "a wait task needs exactly one of 'until', 'delay', 'http' or 'signal'.");
            return;
        }
        if (t.Until is { } until && !Liquid.IsTemplate(until) && !DateTimeOffset.TryParse(until, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out _))
            ctx.AddFailure("until", $"'{until}' is neither an ISO-8601 instant (e.g. '2027-01-01T09:00:00Z') nor a template (e.g. '{{{{ data_interval_end }}}}').");
        if (t.Delay is { } delay && (delay <= TimeSpan.Zero || delay > MaxDelay))
            ctx.AddFailure("delay", "'delay' must be more than 0 and at most 365 days (e.g. 'PT10M').");
        if (t.Signal is false)
            ctx.AddFailure("signal", "'signal' must be true (a signal wait ends with POST /runs/{id}/tasks/{task}/signal).");
        if (t.Http is { } http)
        {
            if (string.IsNullOrEmpty(http.Uri))
                ctx.AddFailure("http.uri", "an http wait needs 'uri'.");
            else if (!Liquid.IsTemplate(http.Uri) && !(Uri.TryCreate(http.Uri, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
                ctx.AddFailure("http.uri", $"'{http.Uri}' is not an absolute http(s) URI.");
            for (var i = 0; i < (http.ExpectStatus?.Count ?? 0); i++)
                if (http.ExpectStatus![i] is < 100 or > 599)
                    ctx.AddFailure($"http.expect_status[{i}]", "a status must be between 100 and 599.");
            if (http.PokeInterval is { } interval && (interval < MinPokeInterval || interval > MaxPokeInterval))
                ctx.AddFailure("http.poke_interval", "'poke_interval' must be between 1 second and 1 day.");
            foreach (var name in http.UnknownFields?.Keys ?? Enumerable.Empty<string>())
                ctx.AddFailure($"http.{name}", $"unknown field '{name}'.");
        }
    }
}
