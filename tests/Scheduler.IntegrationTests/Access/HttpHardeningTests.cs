using System.Net;
using System.Text.RegularExpressions;
using Scheduler.IntegrationTests.Admin;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Access;

/// <summary>Security headers on every response, the admin pages' script policy, the sign-in cookie's flags, HSTS and X-Forwarded-Proto.</summary>
public sealed partial class HttpHardeningTests(ServerFixture server, LimitedServers limited) : ServerTest(server), IClassFixture<LimitedServers>
{
    private static void AssertSecurityHeaders(HttpResponseMessage response, string what)
    {
        Assert.True(response.Headers.TryGetValues("X-Content-Type-Options", out var nosniff) && nosniff.Single() == "nosniff", $"{what}: X-Content-Type-Options");
        Assert.True(response.Headers.TryGetValues("X-Frame-Options", out var frame) && frame.Single() == "DENY", $"{what}: X-Frame-Options");
        Assert.True(response.Headers.TryGetValues("Content-Security-Policy", out var csp), $"{what}: no Content-Security-Policy");
        Assert.Contains("frame-ancestors 'none'", csp!.Single());
    }

    [Fact]
    public async Task EveryResponse_HasTheSecurityHeaders()
    {
        using var noRedirects = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = Server.BaseAddress };
        foreach (var (client, path) in new[]
                 {
                     (Admin, "dags"), (Admin, "dags/nope"), (Anonymous, "api/v1/dags"), (Anonymous, "health/ready"),
                     (Anonymous, "swagger/index.html"), (noRedirects, "/admin"), (noRedirects, "/admin/login"), (Admin, "no-such-route"),
                 })
        {
            using var response = await client.GetAsync(path);
            AssertSecurityHeaders(response, $"GET {path} ({(int)response.StatusCode})");
        }
        using var malformed = await Admin.PostJsonAsync("dags", "{not json");
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        AssertSecurityHeaders(malformed, "malformed JSON");
    }

    [Fact]
    public async Task AdminPages_AllowOnlyTheirOwnScripts_ByANoncePerResponse()
    {
        using var session = await AdminSession.SignedInAsync(Server, ServerFixture.AdminUser, ServerFixture.AdminPassword);
        var nonces = new List<string>();
        foreach (var path in new[] { "/admin", "/admin/dags" })
        {
            using var response = await session.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var csp = response.Headers.GetValues("Content-Security-Policy").Single();
            var nonce = Nonce().Match(csp).Groups[1].Value;
            Assert.NotEmpty(nonce);
            Assert.Contains("default-src 'self'", csp);
            Assert.Contains("object-src 'none'", csp);
            Assert.DoesNotContain("'unsafe-inline'", csp.Split(';').Single(d => d.Trim().StartsWith("script-src", StringComparison.Ordinal)));
            var html = await response.Content.ReadAsStringAsync();
            var scripts = Regex.Matches(html, "<script[^>]*>").Select(m => m.Value).ToList();
            Assert.NotEmpty(scripts);
            Assert.All(scripts, tag => Assert.Contains($"nonce=\"{nonce}\"", tag));
            nonces.Add(nonce);
        }
        Assert.Equal(nonces.Count, nonces.Distinct().Count());
    }

    [Fact]
    public async Task SignInCookie_IsSecureHttpOnlyStrict_OutsideDevelopment()
    {
        using var session = await AdminSession.SignedInAsync(Server, ServerFixture.AdminUser, ServerFixture.AdminPassword);
        var cookie = session.SetCookies.Single(c => c.StartsWith("scheduler_admin=", StringComparison.Ordinal)).ToLowerInvariant();
        Assert.Contains("; secure", cookie);
        Assert.Contains("; httponly", cookie);
        Assert.Contains("; samesite=strict", cookie);
        Assert.Contains("; path=/admin", cookie);
    }

    [Fact]
    public async Task Hsts_IsSentOverHttps_AndForwardedProtoCountsOnlyFromATrustedProxy()
    {
        static HttpRequestMessage ViaProxy()
        {
            var request = new HttpRequestMessage(HttpMethod.Get, "/health/live");
            request.Headers.Host = "scheduler.example.test";
            request.Headers.Add("X-Forwarded-Proto", "https");
            request.Headers.Add("X-Forwarded-For", "198.51.100.77");
            return request;
        }
        // 127.0.0.1 is a trusted proxy of Proxied: the request is https, HSTS applies.
        using var proxied = new HttpClient { BaseAddress = limited.Proxied.BaseAddress };
        using (var response = await proxied.SendAsync(ViaProxy()))
            Assert.Contains("max-age=31536000", response.Headers.GetValues("Strict-Transport-Security").Single());
        // Direct trusts no proxy: the same headers are ignored, the request stays plain http.
        using var direct = new HttpClient { BaseAddress = limited.Direct.BaseAddress };
        using (var response = await direct.SendAsync(ViaProxy()))
            Assert.False(response.Headers.Contains("Strict-Transport-Security"));
    }

    [GeneratedRegex("script-src 'self' 'nonce-([A-Za-z0-9+/=_-]+)'")]
    private static partial Regex Nonce();
}
