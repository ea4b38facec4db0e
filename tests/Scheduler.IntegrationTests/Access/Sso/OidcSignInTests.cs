using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Scheduler.IntegrationTests.Admin;
using Scheduler.IntegrationTests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Scheduler.IntegrationTests.Access.Sso;

/// <summary>
/// Single sign-on end to end in headless Chromium against a real OpenID provider (npm's
/// oidc-provider on loopback): the "Sign in with SSO" button, the provider's login and consent
/// pages, back to the dashboard with the role of the user's groups (authorization code + PKCE);
/// the user is recorded with source oidc, gets the new role when their groups change (their
/// old session ends), and a user whose groups map to no role is refused with a clear page.
/// </summary>
public sealed class OidcSignInTests(ServerFixture server) : ServerTest(server), IAsyncLifetime
{
    private OidcProvider _provider = null!;
    private ExtraServer _server = null!;
    private Browser _browser = null!;

    async Task IAsyncLifetime.InitializeAsync()
    {
        await Server.ResetAsync();
        _provider = await OidcProvider.StartAsync(new Dictionary<string, string[]>
        {
            ["alice"] = ["sched-admins", "staff"],
            ["mallory"] = ["staff"],
        });
        _server = new ExtraServer(new Dictionary<string, string?>
        {
            ["Auth:Oidc:Authority"] = _provider.Issuer.ToString(),
            ["Auth:Oidc:ClientId"] = OidcProvider.ClientId,
            ["Auth:Oidc:ClientSecret"] = OidcProvider.ClientSecret,
            ["Auth:Oidc:RequireHttpsMetadata"] = "false", // the test provider speaks http on loopback
            ["Auth:Oidc:Scopes"] = "openid profile groups",
            ["Auth:Oidc:RoleMappings:sched-admins"] = "admin",
            ["Auth:Oidc:RoleMappings:sched-viewers"] = "viewer",
        });
        await _provider.ReadyAsync(new Uri(_server.BaseAddress, "/admin/signin-oidc"));
        _browser = await Browser.LaunchAsync();
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        var violations = _browser.CspViolations.ToList();
        await _browser.DisposeAsync();
        await _server.DisposeAsync();
        await _provider.DisposeAsync();
        Assert.True(violations.Count == 0, "refused by the Content-Security-Policy:\n" + string.Join("\n", violations));
    }

    private static async Task<(string? Source, string? Role)> RowAsync(string username) =>
        (await TestDatabase.ScalarAsync<string>("select source from access.users where username = @u", ("u", username)),
         await TestDatabase.ScalarAsync<string>("select role from access.users where username = @u", ("u", username)));

    /// <summary>From a protected page to the provider and back: a new browser context, so a new provider session.</summary>
    private async Task<IPage> SsoAsync(string login, string screenshot)
    {
        var page = await _browser.NewPageAsync(_server.BaseAddress);
        await page.GotoAsync("/admin/dags");
        await Expect(page).ToHaveURLAsync(new Regex("/admin/login"));
        await page.GetByRole(AriaRole.Link, new() { Name = "Sign in with SSO" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("^" + Regex.Escape(_provider.Issuer.ToString().TrimEnd('/')) + "/interaction/"));
        await page.Locator("input[name=login]").FillAsync(login);
        await page.Locator("input[name=password]").FillAsync("any-password");
        await Browser.ScreenshotAsync(page, screenshot + "-provider-login");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign-in" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Continue" }).ClickAsync(); // the provider's consent
        await Expect(page).ToHaveURLAsync(new Regex("^" + Regex.Escape(_server.BaseAddress.ToString().TrimEnd('/')) + "/admin"));
        return page;
    }

    [Fact]
    public async Task SsoUser_SignsIn_WithTheRoleOfTheirGroups_AndGetsTheNewRoleWhenTheyChange()
    {
        var login = await _browser.NewPageAsync(_server.BaseAddress);
        await login.GotoAsync("/admin/login");
        await Expect(login.GetByRole(AriaRole.Link, new() { Name = "Sign in with SSO" })).ToBeVisibleAsync();
        await Browser.ScreenshotAsync(login, "sso-01-login-with-sso-button");
        await login.Context.CloseAsync();

        var admin = await SsoAsync("alice", "sso-02");
        // Back where the sign-in started, as an admin.
        await Expect(admin).ToHaveURLAsync(new Regex("/admin/dags$"));
        await Expect(admin.GetByRole(AriaRole.Heading, new() { Name = "DAGs" })).ToBeVisibleAsync();
        Assert.Equal(("oidc", "admin"), await RowAsync("alice"));

        // The users page shows the source, and no password field for an SSO user.
        await admin.GotoAsync("/admin/users");
        var row = admin.Locator("tr[data-user=alice]");
        await Expect(row.GetByTestId("source")).ToHaveTextAsync("oidc");
        await Expect(row.Locator("input[type=password]")).ToHaveCountAsync(0);
        await Expect(admin.Locator($"tr[data-user={ServerFixture.AdminUser}]").GetByTestId("source")).ToHaveTextAsync("local");
        await Browser.ScreenshotAsync(admin, "sso-03-users-with-source");

        // The provider now puts alice among the viewers: the next sign-in makes her a viewer,
        // and the admin session she had ends (a new security stamp).
        _provider.SetAccounts(new Dictionary<string, string[]> { ["alice"] = ["sched-viewers"], ["mallory"] = ["staff"] });
        var viewer = await SsoAsync("alice", "sso-04");
        await Expect(viewer.GetByRole(AriaRole.Heading, new() { Name = "DAGs" })).ToBeVisibleAsync();
        Assert.Equal(("oidc", "viewer"), await RowAsync("alice"));
        await viewer.GotoAsync("/admin/users");
        await Expect(viewer.GetByText("403 Forbidden")).ToBeVisibleAsync();
        await admin.ReloadAsync();
        await Expect(admin).ToHaveURLAsync(new Regex("/admin/login"));
    }

    [Fact]
    public async Task SsoUserWithoutAMappedGroup_IsRefused_WithAClearPage()
    {
        var page = await SsoAsync("mallory", "sso-05");
        await Expect(page).ToHaveURLAsync(new Regex("/admin/login\\?sso_error=no_role"));
        await Expect(page.Locator("#sso-error")).ToContainTextAsync("none of its groups gives a role");
        await Expect(page.Locator("#sso-error")).ToContainTextAsync("mallory");
        await Browser.ScreenshotAsync(page, "sso-06-refused-no-role");
        Assert.Equal(((string?)null, (string?)null), await RowAsync("mallory"));
        // Still signed out: a protected page sends back to the login page.
        await page.GotoAsync("/admin");
        await Expect(page).ToHaveURLAsync(new Regex("/admin/login"));
    }

    [Fact]
    public async Task SsoCannotTakeOverALocalUser()
    {
        _provider.SetAccounts(new Dictionary<string, string[]> { [ServerFixture.AdminUser] = ["sched-admins"] });
        var page = await SsoAsync(ServerFixture.AdminUser, "sso-07");
        await Expect(page.Locator("#sso-error")).ToContainTextAsync("another kind");
        Assert.Equal(("local", "admin"), await RowAsync(ServerFixture.AdminUser));
    }
}
