using Scheduler.Pages.Admin;

namespace Scheduler.UnitTests.Admin;

/// <summary>The users page's team roles field: <c>team:role</c> entries, separated by commas or spaces.</summary>
public sealed class UserTeamRolesTextTests
{
    [Fact]
    public void Parses_Entries_KeepingTheHighestRolePerTeam()
    {
        var map = UsersModel.ParseTeamRoles("ops:viewer, billing:operator ops:admin");
        Assert.NotNull(map);
        Assert.Equal("admin", map["ops"]);
        Assert.Equal("operator", map["billing"]);
        Assert.Equal("billing:operator, ops:admin", UsersModel.TeamRolesText(map));
    }

    [Fact]
    public void Empty_IsNoTeamRoles() => Assert.Empty(UsersModel.ParseTeamRoles("  ")!);

    [Theory]
    [InlineData("operator")]
    [InlineData("ops-operator")]
    [InlineData("ops:owner")]
    [InlineData("ops:viewer, admin")]
    public void AnEntryThatIsNotATeamRole_IsRefused(string text) => Assert.Null(UsersModel.ParseTeamRoles(text));
}
