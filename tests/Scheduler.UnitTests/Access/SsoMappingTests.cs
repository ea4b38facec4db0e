using Scheduler.Modules.Access.Sso;

namespace Scheduler.UnitTests.Access;

public sealed class SsoMappingTests
{
    private static RoleMapping Mapping(params (string Group, string Value)[] entries) =>
        RoleMapping.Parse(entries.Select(e => KeyValuePair.Create(e.Group, (string?)e.Value)), "Auth:Oidc:RoleMappings");

    private static readonly RoleMapping Standard = Mapping(("sched-viewers", "viewer"), ("sched-ops", "operator"), ("sched-admins", "admin"), ("billing", "billing:operator"));

    [Theory]
    [InlineData(new[] { "sched-viewers" }, "viewer")]
    [InlineData(new[] { "sched-viewers", "sched-ops" }, "operator")]
    [InlineData(new[] { "sched-ops", "sched-admins", "sched-viewers" }, "admin")]
    [InlineData(new[] { "SCHED-ADMINS" }, "admin")]
    [InlineData(new[] { " sched-ops " }, "operator")]
    [InlineData(new[] { "unrelated", "sched-viewers", "sched-viewers" }, "viewer")]
    public void GlobalRole_IsTheHighestRoleOfTheMappedGroups(string[] groups, string expected) =>
        Assert.Equal(expected, Standard.GlobalRole(groups));

    [Fact]
    public void GlobalRole_IsNull_WhenNoGroupMaps()
    {
        Assert.Null(Standard.GlobalRole([]));
        Assert.Null(Standard.GlobalRole(["unrelated", "sched"]));
    }

    [Fact]
    public void TeamGrants_AreKept_ButGiveNoGlobalRole()
    {
        Assert.Null(Standard.GlobalRole(["billing"]));
        Assert.Equal([new RoleGrant("billing", "operator"), new RoleGrant(null, "viewer")], Standard.Grants(["billing", "sched-viewers"]));
        Assert.Equal("viewer", Standard.GlobalRole(["billing", "sched-viewers"]));
    }

    [Fact]
    public void TeamRoles_AreTheHighestRolePerTeam_WhenSeveralGroupsMapToOneTeam()
    {
        var mapping = Mapping(("billing-view", "billing:viewer"), ("billing-admin", "billing:admin"), ("shop", "shop:operator"), ("all", "viewer"));
        var roles = mapping.TeamRoles(["billing-view", "billing-admin", "shop", "all"]);
        Assert.Equal(new Dictionary<string, string> { ["billing"] = "admin", ["shop"] = "operator" }, roles);
        Assert.Empty(mapping.TeamRoles(["all"]));
    }

    [Theory]
    [InlineData("root")]
    [InlineData("")]
    [InlineData("team:")]
    [InlineData(":admin")]
    [InlineData("bad team:admin")]
    [InlineData("team:owner")]
    public void Parse_RefusesAnUnknownRole_NamingTheSetting(string value)
    {
        var error = Assert.Throws<InvalidOperationException>(() => Mapping(("g", value)));
        Assert.Contains("Auth:Oidc:RoleMappings:g", error.Message);
    }

    [Fact]
    public void Parse_AcceptsRolesInAnyCase() => Assert.Equal("admin", Mapping(("g", "Admin")).GlobalRole(["g"]));

    [Theory]
    [InlineData("alice", "alice")]
    [InlineData("a,b", "a\\,b")]
    [InlineData("x=y+z", "x\\=y\\+z")]
    [InlineData("#lead", "\\#lead")]
    [InlineData(" pad ", "\\ pad\\ ")]
    [InlineData("q\"<>;\\", "q\\\"\\<\\>\\;\\\\")]
    public void EscapeDnValue_EscapesRfc4514Specials(string value, string expected) =>
        Assert.Equal(expected, LdapDirectory.EscapeDnValue(value));

    [Theory]
    [InlineData("alice", "alice")]
    [InlineData("*", "\\2a")]
    [InlineData("a)(uid=*", "a\\29\\28uid=\\2a")]
    [InlineData("back\\slash", "back\\5cslash")]
    public void EscapeFilterValue_EscapesRfc4515Specials(string value, string expected) =>
        Assert.Equal(expected, LdapDirectory.EscapeFilterValue(value));

    [Theory]
    [InlineData("alice", true)]
    [InlineData("alice@example.org", true)]
    [InlineData("", false)]
    [InlineData(null, false)]
    [InlineData(" alice", false)]
    [InlineData("al\nice", false)]
    public void IsUsableUsername(string? username, bool expected) =>
        Assert.Equal(expected, ExternalSignIn.IsUsableUsername(username));
}
