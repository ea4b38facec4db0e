using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;

namespace Scheduler.Modules.Access;

/// <summary>
/// Counts failed API keys (unknown, revoked, expired) per client address
/// (<c>RateLimits:ApiKeyFailuresPerIpPerMinute</c>). An address that used up its budget gets
/// 429 for every request carrying a key, without a lookup, until its bucket refills.
/// </summary>
internal sealed class ApiKeyFailureLimiter(RateLimitOptions options) : KeyedRateLimiter(options.ApiKeyFailuresPerIpPerMinute);

/// <summary>
/// Authenticates <c>X-Api-Key</c> (or <c>Authorization: Bearer</c>). Valid keys are cached for <see cref="CacheFor"/> so a
/// busy client costs no query per request; the trade-off is that a key revoked on another
/// replica keeps working there for at most that long (on this replica, at once).
/// 401, 403 and 429 (too many failed keys from the client's address) are answered as problem documents.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IMemoryCache cache,
    AccessDbContext db,
    TimeProvider clock,
    ApiKeyFailureLimiter failures)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string HeaderName = "X-Api-Key";
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(10);

    internal sealed record CachedKey(long Id, string Name, string? Role, DateTimeOffset? ExpiresAt, string TeamRoles);

    public static string CacheKey(byte[] hash) => "api-key:" + Convert.ToHexString(hash);

    private TimeSpan? _refusedFor;

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (Presented(Request) is not { } presented)
            return AuthenticateResult.NoResult();
        var client = RateLimits.ClientKey(Context);
        if (failures.IsExhausted(client, out var wait))
            return Refuse(wait);
        if (presented.Length > 200)
            return Failed("Invalid API key.", client);
        var hash = ApiKeySecrets.Hash(presented);
        var cacheKey = CacheKey(hash);
        if (!cache.TryGetValue(cacheKey, out CachedKey? key))
        {
            key = await db.ApiKeys.AsNoTracking()
                .Where(k => k.KeyHash == hash && k.RevokedAt == null)
                .Select(k => new CachedKey(k.Id, k.Name, k.Role, k.ExpiresAt, k.TeamRoles))
                .SingleOrDefaultAsync(Context.RequestAborted);
            if (key is null)
                return Failed("Invalid API key.", client);
            cache.Set(cacheKey, key, CacheFor);
        }
        if (key!.ExpiresAt is { } expires && expires <= clock.GetUtcNow())
            return Failed("The API key has expired.", client);

        var claims = new List<Claim>
        {
            new(ClaimTypes.Name, key.Name),
            new("api_key_id", key.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        };
        if (key.Role is not null)
            claims.Add(new Claim(ClaimTypes.Role, key.Role));
        claims.AddRange(TeamAccess.Claims(TeamRoleMaps.Parse(key.TeamRoles)));
        var identity = new ClaimsIdentity(claims, SchemeName, ClaimTypes.Name, ClaimTypes.Role);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    /// <summary>
    /// The key the request carries: <c>X-Api-Key</c>, else <c>Authorization: Bearer</c> (what
    /// Prometheus' <c>authorization</c> and most HTTP tools send), else none.
    /// </summary>
    private static string? Presented(HttpRequest request)
    {
        if (request.Headers.TryGetValue(HeaderName, out var values) && values.Count > 0 && !string.IsNullOrEmpty(values[0]))
            return values[0];
        var authorization = request.Headers.Authorization.ToString();
        const string bearer = "Bearer ";
        return authorization.StartsWith(bearer, StringComparison.OrdinalIgnoreCase) && authorization.Length > bearer.Length
            ? authorization[bearer.Length..].Trim()
            : null;
    }

    private AuthenticateResult Failed(string message, string client) =>
        failures.TryAcquire(client, out var wait) ? AuthenticateResult.Fail(message) : Refuse(wait);

    private AuthenticateResult Refuse(TimeSpan retryAfter)
    {
        _refusedFor = retryAfter;
        return AuthenticateResult.Fail("Too many failed API keys from this address.");
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        if (_refusedFor is { } retryAfter)
        {
            await RateLimits.WriteTooManyRequestsAsync(Context, retryAfter,
                $"Too many requests with a wrong, revoked or expired {HeaderName} from this address; wait before trying again.");
            return;
        }
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = $"{SchemeName} header=\"{HeaderName}\"";
        await Write(401, "Unauthorized", result.Failure?.Message ?? $"Send a valid API key in the {HeaderName} header.");
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        var role = Context.User.FindFirstValue(ClaimTypes.Role);
        await Write(403, "Forbidden", role is null
            ? "This key has team roles only: they do not allow this operation (a global role is needed)."
            : $"The role '{role}' does not allow this operation.");
    }

    private Task Write(int status, string title, string detail) =>
        Problems.WriteAsync(Context, new ProblemDetails { Status = status, Title = title, Detail = detail, Type = Problems.TypeFor(status) });
}
