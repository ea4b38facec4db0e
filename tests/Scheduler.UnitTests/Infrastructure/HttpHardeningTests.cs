using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Scheduler.Infrastructure.Health;
using Scheduler.Infrastructure.Http;

namespace Scheduler.UnitTests.Infrastructure;

public sealed class HttpHardeningTests
{
    [Theory]
    [InlineData("203.0.113.7", "203.0.113.7")]
    [InlineData("::ffff:203.0.113.7", "203.0.113.7")]
    [InlineData("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64")]
    [InlineData("::1", "::/64")]
    public void ClientKey_KeepsIPv4Whole_AndGroupsIPv6ByItsSlash64(string address, string key)
    {
        Assert.Equal(key, RateLimits.ClientKey(IPAddress.Parse(address)));
    }

    [Fact]
    public void ClientKey_OfNoAddress_IsOneSharedKey()
    {
        Assert.Equal("unknown", RateLimits.ClientKey((IPAddress?)null));
    }

    [Theory]
    [InlineData(10, 1, 6)]
    [InlineData(60, 1, 1)]
    [InlineData(1, 1, 60)]
    [InlineData(600, 10, 1)]
    [InlineData(100000, 1667, 1)]
    public void PerMinute_AllowsTheBurst_AndRefillsAtThatRate(int perMinute, int tokensPerPeriod, double periodSeconds)
    {
        var options = RateLimits.PerMinute(perMinute);
        Assert.Equal(perMinute, options.TokenLimit);
        Assert.Equal(tokensPerPeriod, options.TokensPerPeriod);
        Assert.Equal(TimeSpan.FromSeconds(periodSeconds), options.ReplenishmentPeriod);
        Assert.Equal(0, options.QueueLimit);
        Assert.InRange(options.TokensPerPeriod * (60 / options.ReplenishmentPeriod.TotalSeconds), perMinute, perMinute + 60);
    }

    [Theory]
    [InlineData(0.2, 1)]
    [InlineData(1.0, 1)]
    [InlineData(5.01, 6)]
    [InlineData(60, 60)]
    public void RetryAfterSeconds_RoundsUp_AndIsNeverZero(double seconds, int expected)
    {
        Assert.Equal(expected, RateLimits.RetryAfterSeconds(TimeSpan.FromSeconds(seconds)));
        Assert.Equal(1, RateLimits.RetryAfterSeconds(null));
    }

    [Fact]
    public void KeyedRateLimiter_RefusesOnceTheBurstIsUsed_PerKey_AndZeroMeansOff()
    {
        using var limiter = new KeyedRateLimiter(2);
        Assert.False(limiter.IsExhausted("a", out _));
        Assert.True(limiter.TryAcquire("a", out _));
        Assert.True(limiter.TryAcquire("a", out _));
        Assert.True(limiter.IsExhausted("a", out var wait));
        Assert.Equal(TimeSpan.FromSeconds(30), wait);
        Assert.False(limiter.TryAcquire("a", out var retryAfter));
        Assert.InRange(retryAfter, TimeSpan.FromTicks(1), TimeSpan.FromSeconds(30));
        Assert.True(limiter.TryAcquire("b", out _));

        using var off = new KeyedRateLimiter(0);
        for (var i = 0; i < 100; i++)
            Assert.True(off.TryAcquire("a", out _));
        Assert.False(off.IsExhausted("a", out _));
    }

    [Fact]
    public void ForwardedHeaders_AreOffUntilAProxyIsConfigured_AndBadValuesNameTheKey()
    {
        Assert.False(new ForwardedHeadersConfig().Enabled);
        var config = new ForwardedHeadersConfig { KnownProxies = ["10.0.0.5", " ::1 "], KnownNetworks = ["10.1.0.0/16", "fd00::/8"] };
        Assert.True(config.Enabled);
        var (proxies, networks) = config.Parse();
        Assert.Equal([IPAddress.Parse("10.0.0.5"), IPAddress.IPv6Loopback], proxies);
        Assert.True(networks[0].Contains(IPAddress.Parse("10.1.200.3")));
        Assert.Equal(AddressFamily.InterNetworkV6, networks[1].BaseAddress.AddressFamily);

        Assert.Contains("KnownProxies: 'proxy.local'", Assert.Throws<InvalidOperationException>(() => new ForwardedHeadersConfig { KnownProxies = ["proxy.local"] }.Parse()).Message);
        Assert.Contains("KnownNetworks: '10.0.0.0'", Assert.Throws<InvalidOperationException>(() => new ForwardedHeadersConfig { KnownNetworks = ["10.0.0.0"] }.Parse()).Message);
        Assert.Contains("ForwardLimit", Assert.Throws<InvalidOperationException>(() => new ForwardedHeadersConfig { KnownProxies = ["10.0.0.5"], ForwardLimit = 0 }.Parse()).Message);
    }

    [Theory]
    [InlineData("/admin", true)]
    [InlineData("/admin/dags/x", true)]
    [InlineData("/ADMIN/login", true)]
    [InlineData("/admin/jobs", false)]
    [InlineData("/admin/jobs/recurring", false)]
    [InlineData("/administrator", false)]
    [InlineData("/swagger/index.html", false)]
    [InlineData("/api/v1/dags", false)]
    public void IsAdminPage_CoversOurPages_NotHangfiresDashboard(string path, bool expected)
    {
        Assert.Equal(expected, HttpHardening.IsAdminPage(new PathString(path)));
    }

    [Fact]
    public void AdminPagePolicy_AllowsOnlyNoncedInlineScripts_AndNoFraming()
    {
        var policy = HttpHardening.AdminPagePolicy("ABC123");
        var directives = policy.Split(';', StringSplitOptions.TrimEntries).ToDictionary(d => d.Split(' ')[0], d => d);
        Assert.Equal("script-src 'self' 'nonce-ABC123'", directives["script-src"]);
        Assert.Equal("frame-ancestors 'none'", directives["frame-ancestors"]);
        Assert.Equal("object-src 'none'", directives["object-src"]);
        Assert.Equal("default-src 'self'", directives["default-src"]);
    }

    [Theory]
    [InlineData("Development", CookieSecurePolicy.SameAsRequest)]
    [InlineData("Production", CookieSecurePolicy.Always)]
    [InlineData("Staging", CookieSecurePolicy.Always)]
    [InlineData("Testing", CookieSecurePolicy.Always)]
    public void CookieSecurePolicy_IsAlways_OutsideDevelopment(string environment, CookieSecurePolicy expected)
    {
        Assert.Equal(expected, HttpHardening.CookieSecurePolicy(new Environment(environment)));
    }

    [Fact]
    public void HealthDescriptions_NameTheKindOfFailure_NeverTheExceptionText()
    {
        var secret = "Host=db.internal;Password=hunter2";
        foreach (var (exception, expected) in new (Exception, string)[]
                 {
                     (new NpgsqlException(secret, new SocketException((int)SocketError.ConnectionRefused)), "database unreachable"),
                     (new NpgsqlException(secret, new TimeoutException(secret)), "database did not answer in time"),
                     (new OperationCanceledException(secret), "database did not answer in time"),
                     (new PostgresException(secret, "FATAL", "FATAL", PostgresErrorCodes.InvalidPassword), "database refused the credentials"),
                     (new PostgresException(secret, "FATAL", "FATAL", PostgresErrorCodes.InvalidCatalogName), "database does not exist"),
                     (new PostgresException(secret, "FATAL", "FATAL", PostgresErrorCodes.TooManyConnections), "database refuses connections (starting up, shutting down or full)"),
                     (new InvalidOperationException(secret), "readiness check failed (see the server log)"),
                 })
        {
            var described = HealthSetup.Describe(exception);
            Assert.Equal(expected, described);
            Assert.DoesNotContain("hunter2", described);
        }
    }

    private sealed class Environment(string name) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = name;
        public string ApplicationName { get; set; } = "Scheduler";
        public string ContentRootPath { get; set; } = "/";
        public Microsoft.Extensions.FileProviders.IFileProvider ContentRootFileProvider { get; set; } = null!;
    }
}
