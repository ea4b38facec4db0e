using System.Security.Claims;
using Scheduler.Infrastructure.Auth;

namespace Scheduler.UnitTests.Access;

public sealed class TeamAccessTests
{
    private static TeamAccess Caller(string? global, params (string Team, string Role)[] teams) =>
        new(global, teams.ToDictionary(t => t.Team, t => t.Role));

    [Theory]
    [InlineData(null, "operator", "operator")]
    [InlineData("viewer", "admin", "admin")]
    [InlineData("admin", "viewer", "admin")]
    [InlineData("operator", null, "operator")]
    public void RoleOn_IsTheHigherOfGlobalAndTeamRole_WhenBothMayExist(string? global, string? team, string expected)
    {
        var caller = team is null ? Caller(global) : Caller(global, ("pay", team));
        Assert.Equal(expected, caller.RoleOn("pay"));
    }

    [Fact]
    public void Decide_HidesObjectsOfOtherTeamsAndWithoutTeam_WhenOnlyTeamRoles()
    {
        var caller = Caller(null, ("pay", "viewer"));
        Assert.Equal(Decision.Allowed, caller.Decide("pay", Roles.Viewer));
        Assert.Equal(Decision.Forbidden, caller.Decide("pay", Roles.Operator));
        Assert.Equal(Decision.Hidden, caller.Decide("shop", Roles.Viewer));
        Assert.Equal(Decision.Hidden, caller.Decide(null, Roles.Viewer));
    }

    [Fact]
    public void Decide_ForbidsButShows_WhenGlobalViewerActsOnAnyTeam()
    {
        var caller = Caller("viewer", ("pay", "admin"));
        Assert.Equal(Decision.Forbidden, caller.Decide("shop", Roles.Operator));
        Assert.Equal(Decision.Allowed, caller.Decide("pay", Roles.Admin));
        Assert.Equal(Decision.Allowed, caller.Decide(null, Roles.Viewer));
    }

    [Fact]
    public void VisibleTeams_IsNullForGlobalRoles_AndTheTeamsOtherwise()
    {
        Assert.Null(Caller("viewer").VisibleTeams());
        Assert.Equal(["a"], Caller("viewer", ("a", "admin"), ("b", "operator")).VisibleTeams(Roles.Admin)!);
        Assert.Equal(["a", "b"], Caller(null, ("b", "viewer"), ("a", "operator")).VisibleTeams()!);
        Assert.Empty(Caller(null).VisibleTeams()!);
    }

    [Fact]
    public void MayTry_NeedsTheGlobalRoleOrAnyTeamRole_WhenTheObjectIsNotKnownYet()
    {
        Assert.True(Caller(null, ("a", "viewer")).MayTry(Roles.Admin));
        Assert.True(Caller("admin").MayTry(Roles.Admin));
        Assert.False(Caller("viewer").MayTry(Roles.Operator));
        Assert.False(Caller(null).MayTry(Roles.Viewer));
    }

    [Fact]
    public void Of_ReadsClaims_WhenRoundTripped()
    {
        var identity = new ClaimsIdentity(TeamAccess.Claims(new Dictionary<string, string> { ["pay.eu"] = "admin" }).Append(new Claim(ClaimTypes.Role, "viewer")), "test");
        var caller = TeamAccess.Of(new ClaimsPrincipal(identity));
        Assert.Equal("viewer", caller.GlobalRole);
        Assert.Equal("admin", caller.RoleOn("pay.eu"));
    }

    [Fact]
    public void Constructor_IgnoresUnknownRoles()
    {
        var caller = Caller("root", ("a", "superuser"));
        Assert.Null(caller.GlobalRole);
        Assert.Equal(Decision.Hidden, caller.Decide("a", Roles.Viewer));
    }
}
