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

    /// <summary>Every Set-Cookie the server sent, as sent (the jar keeps them without <c>secure</c>).</summary>
    public List<string> SetCookies { get; } = [];

    public AdminSession(ServerFixture server) : this(server.BaseAddress)
    {
    }

    public AdminSession(Uri baseAddress)
    {
        _client = new HttpClient(new LoopbackCookieJar(this) { InnerHandler = new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false } }) { BaseAddress = baseAddress };
    }

    /// <summary>
    /// Outside Development the server marks its cookies <c>secure</c>, and the tests speak plain
    /// http to 127.0.0.1. A browser treats loopback as a secure context and sends them anyway
    /// (Chromium does); .NET's cookie container does not, so this jar stores them without the
    /// flag, keeping their paths and expiry.
    /// </summary>
    private sealed partial class LoopbackCookieJar(AdminSession session) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var header = session.Cookies.GetCookieHeader(request.RequestUri!);
            if (header.Length > 0)
                request.Headers.Add("Cookie", header);
            var response = await base.SendAsync(request, cancellationToken);
            if (response.Headers.TryGetValues("Set-Cookie", out var values))
                foreach (var value in values)
                {
                    session.SetCookies.Add(value);
                    session.Cookies.SetCookies(request.RequestUri!, SecureFlag().Replace(value, ""));
                }
            return response;
        }

        [GeneratedRegex(@";\s*secure\s*(?=;|$)", RegexOptions.IgnoreCase)]
        private static partial Regex SecureFlag();
    }

    public Task<HttpResponseMessage> GetAsync(string path) => _client.GetAsync(path);

    public async Task<string> GetHtmlAsync(string path)
    {
        using var response = await _client.GetAsync(path);
        var html = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {(int)response.StatusCode} {html}");
        return html;
    }

    /// <summary>Form fields, in order.</summary>
    public static Dictionary<string, string> Form(params (string Key, string Value)[] fields) => fields.ToDictionary(f => f.Key, f => f.Value);

    /// <summary>The id of a user, as the Users page's forms post it.</summary>
    public static async Task<string> UserIdAsync(string username) =>
        (await TestDatabase.ScalarAsync<long>("select id from access.users where username = @u", ("u", username))).ToString(System.Globalization.CultureInfo.InvariantCulture);

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

    public Task<HttpResponseMessage> SendAsync(HttpRequestMessage request) => _client.SendAsync(request);

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
