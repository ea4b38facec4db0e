using FluentValidation;
using Scheduler.Infrastructure.Validation;

namespace Scheduler.Modules.Dags.Definitions;

/// <summary>
/// The asset fields' rules (docs/scheduling.md, Assets): <c>schedule_on_assets</c> on the DAG and
/// <c>outlets</c> on its tasks are lists of distinct asset URIs (<see cref="AssetUris"/>).
/// </summary>
internal static class AssetRules
{
    public const int MaxAssets = 100;

    public static void Apply(AbstractValidator<DagDefinition> validator)
    {
        validator.RuleFor(d => d).Custom((d, ctx) =>
        {
            foreach (var (path, message) in Problems("schedule_on_assets", d.ScheduleOnAssets))
                ctx.AddFailure(path, message);
            for (var i = 0; i < (d.Tasks?.Count ?? 0); i++)
                foreach (var (path, message) in Problems($"tasks[{i}].outlets", d.Tasks![i]?.Outlets))
                    ctx.AddFailure(path, message);
        });
    }

    private static IEnumerable<(string Path, string Message)> Problems(string path, List<string>? uris)
    {
        if (uris is null)
            yield break;
        if (uris.Count > MaxAssets)
        {
            yield return (path, $"at most {MaxAssets} assets.");
            yield break;
        }
        for (var i = 0; i < uris.Count; i++)
        {
            if (AssetUris.Problem(uris[i]) is { } problem)
                yield return ($"{path}[{i}]", problem);
            else if (uris.IndexOf(uris[i]) < i)
                yield return ($"{path}[{i}]", $"'{uris[i]}' is listed twice.");
        }
    }
}
