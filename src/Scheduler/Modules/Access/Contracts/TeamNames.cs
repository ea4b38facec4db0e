using FluentValidation;
using Mediator;

namespace Scheduler.Modules.Access.Contracts;

/// <summary>Which of <paramref name="Names"/> are teams (PUT /teams/{name}).</summary>
public sealed record FindTeams(IReadOnlyCollection<string> Names) : IQuery<IReadOnlySet<string>>;

/// <summary>The validation rule of every <c>team</c> field: null (no team) or a team that exists; else a 400 keyed by the field.</summary>
public static class TeamRules
{
    public static IRuleBuilderOptions<T, string?> KnownTeam<T>(this IRuleBuilder<T, string?> rule, ISender sender) =>
        rule.MustAsync(async (team, ct) => team is null || (await sender.Send(new FindTeams([team]), ct)).Contains(team))
            .WithMessage((_, team) => $"no team named '{team}'; create it first with PUT /api/v1/teams/{team}.");
}
