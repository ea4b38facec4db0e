using System.Net;
using System.Security.Cryptography;
using Microsoft.AspNetCore.HttpOverrides;

namespace Scheduler.Infrastructure.Http;

/// <summary><c>Http:ForwardedHeaders</c>: the proxies whose X-Forwarded-For/-Proto are believed.</summary>
internal sealed class ForwardedHeadersConfig
{
    public const string Section = "Http:ForwardedHeaders";

    /// <summary>Addresses of trusted proxies (<c>10.0.0.5</c>, <c>::1</c>).</summary>
    public string[] KnownProxies { get; set; } = [];

    /// <summary>Networks of trusted proxies in CIDR (<c>10.0.0.0/8</c>).</summary>
    public string[] KnownNetworks { get; set; } = [];

    /// <summary>How many proxy hops are unwound (each must be trusted).</summary>
    public int ForwardLimit { get; set; } = 1;

    public bool Enabled => KnownProxies.Length > 0 || KnownNetworks.Length > 0;

    /// <summary>The parsed lists; a value that is no address or network stops the start with the key named.</summary>
    public (IReadOnlyList<IPAddress> Proxies, IReadOnlyList<System.Net.IPNetwork> Networks) Parse()
    {
        var proxies = KnownProxies.Select(p => IPAddress.TryParse(p.Trim(), out var a) ? a
            : throw new InvalidOperationException($"{Section}:KnownProxies: '{p}' is not an IP address.")).ToList();
        var networks = KnownNetworks.Select(n => System.Net.IPNetwork.TryParse(n.Trim(), out var net) ? net
            : throw new InvalidOperationException($"{Section}:KnownNetworks: '{n}' is not a network in CIDR notation (10.0.0.0/8).")).ToList();
        if (ForwardLimit < 1)
            throw new InvalidOperationException($"{Section}:ForwardLimit must be at least 1.");
        return (proxies, networks);
    }
}

/// <summary>
/// What every response and request gets, in one place: forwarded headers only from the
/// proxies configured in <c>Http:ForwardedHeaders</c> (none by default: the client address is
/// the TCP peer, and X-Forwarded-* from anyone else are ignored); HSTS outside Development;
/// <c>X-Content-Type-Options: nosniff</c>, <c>X-Frame-Options: DENY</c>, <c>Referrer-Policy:
/// same-origin</c> and a Content-Security-Policy with <c>frame-ancestors 'none'</c> on every
/// response. The admin pages get a full policy: scripts only from this origin or inline with
/// the request's nonce (<see cref="CspNonce"/>), styles from this origin or inline (the
/// pages use style attributes), forms posting to this origin only. Swagger UI and Hangfire's
/// dashboard (<c>/admin/jobs</c>) bring inline scripts of their own and keep only
/// <c>frame-ancestors</c>.
/// </summary>
internal static class HttpHardening
{
    private const string NonceItem = "http-hardening:csp-nonce";
    private const string FrameAncestorsOnly = "frame-ancestors 'none'";

    public static IServiceCollection AddHttpHardening(this IServiceCollection services, IConfiguration configuration)
    {
        var forwarded = configuration.GetSection(ForwardedHeadersConfig.Section).Get<ForwardedHeadersConfig>() ?? new ForwardedHeadersConfig();
        var (proxies, networks) = forwarded.Parse();
        services.AddSingleton(forwarded);
        services.Configure<ForwardedHeadersOptions>(options =>
        {
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            options.ForwardLimit = forwarded.ForwardLimit;
            // The defaults trust loopback; only what is configured is trusted.
            options.KnownProxies.Clear();
            options.KnownIPNetworks.Clear();
            foreach (var proxy in proxies)
                options.KnownProxies.Add(proxy);
            foreach (var network in networks)
                options.KnownIPNetworks.Add(network);
        });
        services.AddHsts(options => options.MaxAge = TimeSpan.FromDays(365));
        return services;
    }

    /// <summary>First in the pipeline: everything after it (logs, rate limits, cookies) sees the resolved client.</summary>
    public static void UseHttpHardening(this WebApplication app)
    {
        if (app.Services.GetRequiredService<ForwardedHeadersConfig>().Enabled)
            app.UseForwardedHeaders();
        if (!app.Environment.IsDevelopment())
            app.UseHsts();
        app.Use((context, next) =>
        {
            var policy = IsAdminPage(context.Request.Path) ? AdminPagePolicy(CspNonce(context)) : FrameAncestorsOnly;
            // At the start of the response, so an error page (the exception handler clears headers) has them too.
            context.Response.OnStarting(() =>
            {
                var headers = context.Response.Headers;
                headers.XContentTypeOptions = "nosniff";
                headers.XFrameOptions = "DENY";
                headers.ContentSecurityPolicy = policy;
                headers["Referrer-Policy"] = "same-origin";
                return Task.CompletedTask;
            });
            return next(context);
        });
    }

    /// <summary>The sign-in cookie is sent over HTTPS only, except in Development (plain http on a laptop).</summary>
    public static CookieSecurePolicy CookieSecurePolicy(IHostEnvironment environment) =>
        environment.IsDevelopment() ? Microsoft.AspNetCore.Http.CookieSecurePolicy.SameAsRequest : Microsoft.AspNetCore.Http.CookieSecurePolicy.Always;

    /// <summary>This request's script nonce (random, 128 bits); the admin pages put it on their inline scripts.</summary>
    public static string CspNonce(HttpContext context)
    {
        if (context.Items[NonceItem] is not string nonce)
            context.Items[NonceItem] = nonce = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)); // hex: nothing for HTML to encode
        return nonce;
    }

    internal static string AdminPagePolicy(string nonce) =>
        $"default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    internal static bool IsAdminPage(PathString path) =>
        path.StartsWithSegments("/admin", StringComparison.OrdinalIgnoreCase) && !path.StartsWithSegments("/admin/jobs", StringComparison.OrdinalIgnoreCase);
}
