using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Admin;

/// <summary>
/// A test in a real browser against the real server: a clean database, a fresh Chromium, and
/// at the end the proof that the pages worked under their Content-Security-Policy (nothing was
/// refused).
/// </summary>
public abstract class BrowserTest(ServerFixture server) : ServerTest(server), IAsyncLifetime
{
    protected Browser Browser { get; private set; } = null!;

    async Task IAsyncLifetime.InitializeAsync()
    {
        await Server.ResetAsync();
        Browser = await Browser.LaunchAsync();
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        var violations = Browser.CspViolations.ToList();
        await Browser.DisposeAsync();
        Assert.True(violations.Count == 0, "refused by the Content-Security-Policy:\n" + string.Join("\n", violations));
    }

    protected Task<Microsoft.Playwright.IPage> SignInAsync(string username, string password) => Browser.SignInAsync(Server.BaseAddress, username, password);
}
