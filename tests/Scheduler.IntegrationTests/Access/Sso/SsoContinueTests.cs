using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Access.Sso;

/// <summary>
/// The step after the provider's redirect back (OidcSignInTests goes through it in the
/// browser): it moves on to a local /admin page only, never to another site (no open redirect).
/// </summary>
public sealed class SsoContinueTests(ServerFixture server) : ServerTest(server)
{
    [Theory]
    [InlineData("/admin/dags", "/admin/dags")]
    [InlineData("https://elsewhere.example/admin", "/admin")]
    [InlineData("//elsewhere.example/admin", "/admin")]
    [InlineData("/swagger", "/admin")]
    public async Task Continue_MovesOnToALocalAdminPageOnly(string returnUrl, string expected)
    {
        using var client = new HttpClient { BaseAddress = Server.BaseAddress };
        var html = await client.GetStringAsync("/admin/login?handler=Continue&returnUrl=" + Uri.EscapeDataString(returnUrl));
        Assert.Contains($"content=\"0;url={expected}\"", html);
    }
}
