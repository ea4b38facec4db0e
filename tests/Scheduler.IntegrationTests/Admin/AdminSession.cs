using System.Net;
using System.Text.RegularExpressions;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Admin;

/// <summary>
/// A plain HTTP client of the admin pages, as a browser without JavaScript: its own cookie
/// jar, no automatic redirects (tests look at them), and forms posted with the antiforgery
/// token read from the page, as the browser would send it.
/// </summary>
public sealed partial class AdminSession : IDisposable
{
    private readonly HttpClient _client;

    public CookieContainer Cookies { get; } = new();

    public AdminSession(ServerFixture server)
    {
        _client = new HttpClient(new HttpClientHandler { CookieContainer = Cookies, AllowAutoRedirect = false }) { BaseAddress = server.BaseAddress };
    }

    public Task<HttpResponseMessage> GetAsync(string path) => _client.GetAsync(path);

    public async Task<string> GetHtmlAsync(string path)
    {
        using var response = await _client.GetAsync(path);
        var html = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {(int)response.StatusCode} {html}");
        return html;
    }

    public static string Token(string html) =>
        TokenInput().Match(html) is { Success: true } m ? WebUtility.HtmlDecode(m.Groups[1].Value) : throw new InvalidOperationException("no antiforgery token in the page");

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex TokenInput();

    /// <summary>Posts a form; with <paramref name="tokenFrom"/> the token is read from that page first.</summary>
    public async Task<HttpResponseMessage> PostFormAsync(string path, IDictionary<string, string> fields, string? tokenFrom = null)
    {
        var form = new Dictionary<string, string>(fields);
        if (tokenFrom is not null)
            form["__RequestVerificationToken"] = Token(await GetHtmlAsync(tokenFrom));
        return await _client.PostAsync(path, new FormUrlEncodedContent(form));
    }

    public async Task<HttpResponseMessage> SignInAsync(string username, string password) =>
        await PostFormAsync("/admin/login", new Dictionary<string, string> { ["Username"] = username, ["Password"] = password }, tokenFrom: "/admin/login");

    public static async Task<AdminSession> SignedInAsync(ServerFixture server, string username, string password)
    {
        var session = new AdminSession(server);
        using var response = await session.SignInAsync(username, password);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return session;
    }

    public void Dispose() => _client.Dispose();
}
