using System.Net;
using Scheduler.IntegrationTests.Admin;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Access;

/// <summary>
/// Two servers of their own with low limits: <see cref="LimitedServers.Proxied"/> trusts
/// 127.0.0.1 as a proxy, so each test speaks as its own client address through
/// X-Forwarded-For; <see cref="LimitedServers.Direct"/> trusts no proxy, so the header is
/// ignored and every request is 127.0.0.1's.
/// </summary>
public sealed class LimitedServers : IAsyncLifetime
{
    public const int SignInsPerUser = 3;
    public const int SignInsPerIp = 5;
    public const int KeyFailures = 3;
    public const int Pings = 3;

    public ExtraServer Proxied { get; private set; } = null!;
    public ExtraServer Direct { get; private set; } = null!;

    private static Dictionary<string, string?> Limits() => new()
    {
        ["RateLimits:SignInsPerUserPerMinute"] = SignInsPerUser.ToString(),
        ["RateLimits:SignInsPerIpPerMinute"] = SignInsPerIp.ToString(),
        ["RateLimits:ApiKeyFailuresPerIpPerMinute"] = KeyFailures.ToString(),
        ["RateLimits:MonitorPingsPerMinute"] = Pings.ToString(),
    };

    public Task InitializeAsync()
    {
        var proxied = Limits();
        proxied["Http:ForwardedHeaders:KnownProxies:0"] = "127.0.0.1";
        Proxied = new ExtraServer(proxied);
        Direct = new ExtraServer(Limits());
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await Proxied.DisposeAsync();
        await Direct.DisposeAsync();
    }
}

public sealed class RateLimitTests(ServerFixture server, LimitedServers limited) : ServerTest(server), IClassFixture<LimitedServers>
{
    private static HttpRequestMessage From(string client, HttpMethod method, string path)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Add("X-Forwarded-For", client);
        return request;
    }

    private static async Task<HttpResponseMessage> SignInAsync(AdminSession session, string client, string username, string? accept = null)
    {
        var token = AdminSession.Token(await session.GetHtmlAsync("/admin/login"));
        var request = From(client, HttpMethod.Post, "/admin/login");
        if (accept is not null)
            request.Headers.Add("Accept", accept);
        request.Content = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["Username"] = username, ["Password"] = "wrong-password", ["__RequestVerificationToken"] = token,
        });
        return await session.SendAsync(request);
    }

    private static async Task<HttpResponseMessage> WithKeyAsync(ExtraServer server, string client, string key)
    {
        using var http = server.NewClient(key);
        return await http.SendAsync(From(client, HttpMethod.Get, "dags"));
    }

    private static void AssertRetryAfter(HttpResponseMessage response)
    {
        Assert.Equal((HttpStatusCode)429, response.StatusCode);
        var seconds = Assert.Single(response.Headers.GetValues("Retry-After"));
        Assert.InRange(int.Parse(seconds), 1, 60);
    }

    [Fact]
    public async Task SignIn_IsLimitedPerUsername_WhereverTheAttemptsComeFrom()
    {
        using var session = new AdminSession(limited.Proxied.BaseAddress);
        for (var i = 0; i < LimitedServers.SignInsPerUser; i++)
        {
            using var wrong = await SignInAsync(session, $"198.51.100.{i + 1}", "Alice");
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        }
        // A new address, the same user (in another case): refused before the password is checked.
        using var refused = await SignInAsync(session, "198.51.100.50", "alice");
        AssertRetryAfter(refused);
        await Task.FromResult(refused).ExpectProblemAsync((HttpStatusCode)429);
        // A browser is answered with a page, not JSON.
        using var page = await SignInAsync(session, "198.51.100.51", "alice", accept: "text/html,application/xhtml+xml");
        AssertRetryAfter(page);
        Assert.Contains("Too many sign-in attempts", await page.Content.ReadAsStringAsync());
        // Another user is not affected.
        using var other = await SignInAsync(session, "198.51.100.52", "bob");
        Assert.Equal(HttpStatusCode.Unauthorized, other.StatusCode);
    }

    [Fact]
    public async Task SignIn_IsLimitedPerClientAddress_WhateverTheUsername()
    {
        using var session = new AdminSession(limited.Proxied.BaseAddress);
        for (var i = 0; i < LimitedServers.SignInsPerIp; i++)
        {
            using var wrong = await SignInAsync(session, "198.51.100.200", $"user{i}");
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        }
        using var refused = await SignInAsync(session, "198.51.100.200", "someone-else");
        AssertRetryAfter(refused);
        // The right password is refused too while the address waits: the limit comes first.
        var token = AdminSession.Token(await session.GetHtmlAsync("/admin/login"));
        var right = From("198.51.100.200", HttpMethod.Post, "/admin/login");
        right.Content = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["Username"] = ServerFixture.AdminUser, ["Password"] = ServerFixture.AdminPassword, ["__RequestVerificationToken"] = token,
        });
        using var blocked = await session.SendAsync(right);
        AssertRetryAfter(blocked);
        // From another address the admin signs in.
        using var other = new AdminSession(limited.Proxied.BaseAddress);
        using var elsewhere = await other.SignInAsync(ServerFixture.AdminUser, ServerFixture.AdminPassword);
        Assert.Equal(HttpStatusCode.Redirect, elsewhere.StatusCode);
    }

    [Fact]
    public async Task FailedApiKeys_AreLimitedPerClientAddress()
    {
        for (var i = 0; i < LimitedServers.KeyFailures; i++)
            await WithKeyAsync(limited.Proxied, "203.0.113.7", $"sk_wrong_key_number_{i}_000000000000").ExpectProblemAsync(HttpStatusCode.Unauthorized);
        using (var refused = await WithKeyAsync(limited.Proxied, "203.0.113.7", "sk_wrong_key_number_x_000000000000"))
        {
            AssertRetryAfter(refused);
            await Task.FromResult(refused).ExpectProblemAsync((HttpStatusCode)429);
        }
        // Until the bucket refills, that address is refused even with a valid key (no lookup at all).
        using (var valid = await WithKeyAsync(limited.Proxied, "203.0.113.7", ServerFixture.BootstrapKey))
            AssertRetryAfter(valid);
        // Other addresses are not.
        await WithKeyAsync(limited.Proxied, "203.0.113.8", ServerFixture.BootstrapKey).ExpectAsync(HttpStatusCode.OK);
        await WithKeyAsync(limited.Proxied, "203.0.113.8", "sk_wrong_key_number_y_000000000000").ExpectProblemAsync(HttpStatusCode.Unauthorized);
        // Valid keys never count.
        for (var i = 0; i < LimitedServers.KeyFailures + 2; i++)
            await WithKeyAsync(limited.Proxied, "203.0.113.9", ServerFixture.BootstrapKey).ExpectAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task ForwardedFor_IsIgnored_UnlessTheProxyIsConfigured()
    {
        // Direct trusts no proxy: every request is 127.0.0.1's, whatever X-Forwarded-For claims.
        for (var i = 0; i < LimitedServers.KeyFailures; i++)
            await WithKeyAsync(limited.Direct, $"192.0.2.{i + 1}", $"sk_wrong_key_number_{i}_000000000000").ExpectProblemAsync(HttpStatusCode.Unauthorized);
        using var refused = await WithKeyAsync(limited.Direct, "192.0.2.99", "sk_wrong_key_number_z_000000000000");
        AssertRetryAfter(refused);
    }

    [Fact]
    public async Task Pings_AreLimitedPerMonitor_CountingOnlyTheRightToken()
    {
        var token = (await Admin.PostJsonAsync("monitors", """{"name":"nightly","interval":"PT1H","grace":"PT0S"}""").ExpectAsync(HttpStatusCode.Created)).GetProperty("token").GetString()!;
        var other = (await Admin.PostJsonAsync("monitors", """{"name":"weekly","interval":"PT1H","grace":"PT0S"}""").ExpectAsync(HttpStatusCode.Created)).GetProperty("token").GetString()!;
        using var anonymous = limited.Proxied.NewClient();
        // Wrong tokens first: they are refused and use up nothing.
        for (var i = 0; i < LimitedServers.Pings + 2; i++)
            await anonymous.PostAsync("monitors/nightly/ping?token=wrong", null).ExpectProblemAsync(HttpStatusCode.Forbidden);
        for (var i = 0; i < LimitedServers.Pings; i++)
            await anonymous.PostAsync($"monitors/nightly/ping?token={token}", null).ExpectAsync(HttpStatusCode.OK);
        using (var refused = await anonymous.PostAsync($"monitors/nightly/ping?token={token}", null))
        {
            AssertRetryAfter(refused);
            await Task.FromResult(refused).ExpectProblemAsync((HttpStatusCode)429);
        }
        Assert.Equal(LimitedServers.Pings, await TestDatabase.ScalarAsync<long>(
            "select count(*) from notifications.pings p join notifications.monitors m on m.id = p.monitor_id where m.name = 'nightly'"));
        await anonymous.PostAsync($"monitors/weekly/ping?token={other}", null).ExpectAsync(HttpStatusCode.OK);
    }
}
