using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;
using Scheduler.Infrastructure.Auth;

namespace Scheduler.Infrastructure.Http;

/// <summary>Requests per minute by kind (<c>RateLimits</c> section); 0 turns a limit off.</summary>
internal sealed class RateLimitOptions
{
    public const string Section = "RateLimits";

    /// <summary>Sign-in attempts (right or wrong) for one username, from anywhere.</summary>
    public int SignInsPerUserPerMinute { get; set; } = 10;

    /// <summary>Sign-in attempts from one client address, whatever the username.</summary>
    public int SignInsPerIpPerMinute { get; set; } = 30;

    /// <summary>Requests with an unknown, revoked or expired API key from one client address.</summary>
    public int ApiKeyFailuresPerIpPerMinute { get; set; } = 30;

    /// <summary>Accepted pings (right token) of one monitor.</summary>
    public int MonitorPingsPerMinute { get; set; } = 60;
}

/// <summary>
/// ASP.NET Core's rate limiter. Each limit is a token bucket per key: a burst of the
/// configured number, refilled at that number per minute, counted per replica (N replicas
/// allow N times the rate). Sign-ins are limited by the middleware before the password is
/// checked, per username and per client address (the resolved one: forwarded headers apply
/// only from configured proxies, see <see cref="HttpHardening"/>). Failed API keys and
/// accepted monitor pings are counted where their outcome is known (<see cref="KeyedRateLimiter"/>).
/// A refusal is 429 with <c>Retry-After</c> (seconds) and a problem document.
/// </summary>
internal static class RateLimits
{
    public static IServiceCollection AddRateLimits(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.GetSection(RateLimitOptions.Section).Get<RateLimitOptions>() ?? new RateLimitOptions();
        if (options.SignInsPerUserPerMinute < 0 || options.SignInsPerIpPerMinute < 0 || options.ApiKeyFailuresPerIpPerMinute < 0 || options.MonitorPingsPerMinute < 0)
            throw new InvalidOperationException("RateLimits: every limit must be 0 (off) or a positive number of requests per minute.");
        services.AddSingleton(options);
        services.AddRateLimiter(limiter =>
        {
            limiter.GlobalLimiter = PartitionedRateLimiter.CreateChained(
                SignInLimiter(options.SignInsPerIpPerMinute, http => "ip:" + ClientKey(http)),
                SignInLimiter(options.SignInsPerUserPerMinute, http => "user:" + SignInUsername(http)));
            limiter.OnRejected = (context, cancellationToken) => RejectSignInAsync(context, cancellationToken);
        });
        return services;
    }

    /// <summary>After the forwarded headers (the client address) and before authentication.</summary>
    public static void UseRateLimits(this WebApplication app)
    {
        // The limiter's partition is chosen synchronously: the sign-in form is read (buffered,
        // asynchronously) first and its username kept; the page binds the same, already read form.
        app.Use(async (context, next) =>
        {
            if (IsSignIn(context) && context.Request.HasFormContentType)
            {
                try
                {
                    var form = await context.Request.ReadFormAsync(context.RequestAborted);
                    context.Items[SignInUsernameItem] = form["Username"].ToString();
                }
                catch (Exception e) when (e is InvalidDataException or IOException or BadHttpRequestException)
                {
                    // Not a readable form: counted under no username; the page answers it.
                }
            }
            await next(context);
        });
        app.UseRateLimiter();
    }

    /// <summary>A token bucket allowing <paramref name="perMinute"/> at once, refilled at that rate (one token at a time up to 60 a minute).</summary>
    public static TokenBucketRateLimiterOptions PerMinute(int perMinute) => new()
    {
        TokenLimit = perMinute,
        TokensPerPeriod = perMinute <= 60 ? 1 : (perMinute + 59) / 60,
        ReplenishmentPeriod = perMinute <= 60 ? TimeSpan.FromMinutes(1) / perMinute : TimeSpan.FromSeconds(1),
        QueueLimit = 0,
        AutoReplenishment = true,
    };

    /// <summary>
    /// The client's address as a limiter key: an IPv4 address whole, an IPv6 address by its /64
    /// (one host usually holds a whole /64, so its addresses share one budget).
    /// </summary>
    public static string ClientKey(IPAddress? address)
    {
        if (address is null)
            return "unknown";
        if (address.IsIPv4MappedToIPv6)
            address = address.MapToIPv4();
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
            return address.ToString();
        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }

    public static string ClientKey(HttpContext http) => ClientKey(http.Connection.RemoteIpAddress);

    /// <summary>Whole seconds, rounded up, at least 1: the value of a <c>Retry-After</c> header.</summary>
    public static int RetryAfterSeconds(TimeSpan? retryAfter) => Math.Max(1, (int)Math.Ceiling((retryAfter ?? TimeSpan.FromSeconds(1)).TotalSeconds));

    /// <summary>Answers 429 with <c>Retry-After</c> and a problem document (outside an endpoint: middleware, authentication).</summary>
    public static async ValueTask WriteTooManyRequestsAsync(HttpContext http, TimeSpan? retryAfter, string detail)
    {
        http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        http.Response.Headers.RetryAfter = RetryAfterSeconds(retryAfter).ToString(CultureInfo.InvariantCulture);
        await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = new ProblemDetails { Status = 429, Title = "Too many requests", Detail = detail, Type = Problems.TypeFor(429) },
        });
    }

    private static bool IsSignIn(HttpContext http) =>
        HttpMethods.IsPost(http.Request.Method) && http.Request.Path.Equals(AdminCookie.SignInPath, StringComparison.OrdinalIgnoreCase);

    private const string SignInUsernameItem = "rate-limits:sign-in-username";

    private static string SignInUsername(HttpContext http)
    {
        var name = http.Items[SignInUsernameItem] as string ?? "";
        // Case folded and bounded: neither "Admin" nor a megabyte of name escapes the budget.
        return (name.Length > 200 ? name[..200] : name).ToLowerInvariant();
    }

    private static PartitionedRateLimiter<HttpContext> SignInLimiter(int perMinute, Func<HttpContext, string> key) =>
        PartitionedRateLimiter.Create<HttpContext, string>(http => perMinute > 0 && IsSignIn(http)
            ? RateLimitPartition.GetTokenBucketLimiter(key(http), _ => PerMinute(perMinute))
            : RateLimitPartition.GetNoLimiter(""));

    /// <summary>A browser (the sign-in form) gets a short page; any other client the problem document.</summary>
    private static async ValueTask RejectSignInAsync(OnRejectedContext context, CancellationToken cancellationToken)
    {
        var http = context.HttpContext;
        var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : (TimeSpan?)null;
        const string detail = "Too many sign-in attempts for this user or from this address; wait before trying again.";
        if (!http.Request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase))
        {
            await WriteTooManyRequestsAsync(http, retryAfter, detail);
            return;
        }
        var seconds = RetryAfterSeconds(retryAfter);
        http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        http.Response.ContentType = "text/html; charset=utf-8";
        await http.Response.WriteAsync($"""
            <!doctype html><html lang="en"><head><meta charset="utf-8"><title>429 Too many sign-in attempts</title></head>
            <body><main><h1>Too many sign-in attempts</h1><p>{detail} Try again in {seconds} s.</p>
            <p><a href="{AdminCookie.SignInPath}">Back to the sign-in page</a></p></main></body></html>
            """, cancellationToken);
    }
}

/// <summary>
/// A token bucket per key for what only counts once its outcome is known (a failed API key,
/// an accepted ping), on the framework's partitioned limiter. Idle, refilled buckets are
/// dropped by the limiter, so keys from a flood do not accumulate.
/// </summary>
internal class KeyedRateLimiter(int perMinute) : IDisposable
{
    private readonly PartitionedRateLimiter<string>? _limiter = perMinute > 0
        ? PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetTokenBucketLimiter(key, _ => RateLimits.PerMinute(perMinute)))
        : null;

    /// <summary>Uses one token of <paramref name="key"/>; false (and how long to wait) when none is left.</summary>
    public bool TryAcquire(string key, out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;
        if (_limiter is null)
            return true;
        using var lease = _limiter.AttemptAcquire(key);
        if (lease.IsAcquired)
            return true;
        retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromMinutes(1) / perMinute;
        return false;
    }

    /// <summary>True when <paramref name="key"/> has no token left, without using one.</summary>
    public bool IsExhausted(string key, out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;
        if (_limiter?.GetStatistics(key) is not { CurrentAvailablePermits: <= 0 })
            return false;
        retryAfter = RateLimits.PerMinute(perMinute).ReplenishmentPeriod;
        return true;
    }

    public void Dispose() => _limiter?.Dispose();
}
