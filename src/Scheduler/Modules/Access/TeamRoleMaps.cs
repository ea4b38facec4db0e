using System.Text.Json;
using FluentValidation;
using Mediator;
using Scheduler.Infrastructure.Auth;
using Scheduler.Modules.Access.Contracts;

namespace Scheduler.Modules.Access;

/// <summary>
/// Roles per team as API keys and users carry them: <c>{"roles": {"payments": "operator"}}</c> in
/// requests and responses, a jsonb object in the row. Each key must be a team that exists, each
/// value one of the three roles (a 400 keyed <c>roles.&lt;team&gt;</c> otherwise).
/// </summary>
internal static class TeamRoleMaps
{
    public const int MaxTeams = 100;

    public static IReadOnlyDictionary<string, string> Parse(string? json) =>
        string.IsNullOrEmpty(json) ? new Dictionary<string, string>() : JsonSerializer.Deserialize<Dictionary<string, string>>(json) ?? [];

    public static string Serialize(IReadOnlyDictionary<string, string>? roles) =>
        JsonSerializer.Serialize(new SortedDictionary<string, string>((roles ?? new Dictionary<string, string>()).ToDictionary(), StringComparer.Ordinal));

    /// <summary>The rules for a <c>roles</c> field.</summary>
    public static void Check<T>(AbstractValidator<T> validator, Func<T, IReadOnlyDictionary<string, string>?> roles, ISender sender) =>
        validator.RuleFor(c => c).CustomAsync(async (c, ctx, ct) =>
        {
            var map = roles(c);
            if (map is null || map.Count == 0)
                return;
            if (map.Count > MaxTeams)
            {
                ctx.AddFailure("roles", $"at most {MaxTeams} teams.");
                return;
            }
            var known = await sender.Send(new FindTeams(map.Keys.ToList()), ct);
            foreach (var (team, role) in map)
            {
                if (!known.Contains(team))
                    ctx.AddFailure($"roles.{team}", $"no team named '{team}'; create it first with PUT /api/v1/teams/{{name}}.");
                else if (!Roles.All.Contains(role))
                    ctx.AddFailure($"roles.{team}", $"'{role}' is not a role; one of {string.Join(", ", Roles.All)}.");
            }
        });
}
