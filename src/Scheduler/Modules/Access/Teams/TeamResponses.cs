namespace Scheduler.Modules.Access.Teams;

internal sealed record TeamInfo(string Name, string? Description, DateTimeOffset CreatedAt, string? CreatedBy, DateTimeOffset UpdatedAt);

internal static class TeamResponses
{
    public static TeamInfo ToInfo(Team t) => new(t.Name, t.Description, t.CreatedAt, t.CreatedBy, t.UpdatedAt);
}
