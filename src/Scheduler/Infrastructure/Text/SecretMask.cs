using System.Text.RegularExpressions;

namespace Scheduler.Infrastructure.Text;

/// <summary>
/// Masks credentials carried in URIs and key=value text before it is logged or stored: the
/// user information of any <c>scheme://user:password@host</c>, and the value of every query
/// or connection-string parameter whose name says it is a secret (<c>token</c>,
/// <c>access_token</c>, <c>api_key</c>, <c>password</c>, <c>secret</c>, <c>sig</c>, ...).
/// What is masked becomes <see cref="Mark"/>; the rest of the text (host, path, other
/// parameters) is kept, so the line still says where a request went.
/// </summary>
internal static partial class SecretMask
{
    public const string Mark = "***";

    // Parameter names that are secrets whole ("key", "sig") or that contain a secret word
    // ("x-amz-security-token", "client_secret", "db_password"). Compared lower case, with '-' as '_'.
    private static readonly HashSet<string> SecretNames = ["key", "sig", "signature", "pwd", "pass", "auth", "authorization", "code_verifier"];
    private static readonly string[] SecretWords = ["token", "secret", "password", "passwd", "apikey", "api_key", "credential", "private_key", "session"];

    /// <summary>
    /// The text with credentials in URIs and secret-named parameters masked; the same
    /// instance when there is nothing to mask (the common case costs a scan).
    /// </summary>
    public static string Mask(string text)
    {
        if (text.IndexOf('@') < 0 && text.IndexOf('=') < 0)
            return text;
        var masked = UserInfo().Replace(text, m => m.Groups["scheme"].Value + (m.Groups["info"].Value.Contains(':') ? $"{Mark}:{Mark}" : Mark) + "@");
        return Parameter().Replace(masked, m => IsSecretName(m.Groups["name"].Value) && m.Groups["value"].Length > 0
            ? m.Groups["name"].Value + "=" + Mark
            : m.Value);
    }

    /// <summary>
    /// The text with every occurrence of these secret values (longest first) replaced by
    /// <see cref="Mark"/>: secret variables, wherever a task printed them or a template put them.
    /// </summary>
    public static string MaskValues(string text, IReadOnlyList<string> secrets)
    {
        foreach (var secret in secrets)
            if (secret.Length > 0 && text.Contains(secret, StringComparison.Ordinal))
                text = text.Replace(secret, Mark, StringComparison.Ordinal);
        return text;
    }

    /// <inheritdoc cref="Mask(string)"/>
    public static string? MaskOrNull(string? text) => text is null ? null : Mask(text);

    /// <summary>True when a parameter of this name holds a secret.</summary>
    public static bool IsSecretName(string name)
    {
        var normal = name.Trim().ToLowerInvariant().Replace('-', '_');
        return SecretNames.Contains(normal) || SecretWords.Any(normal.Contains);
    }

    // scheme://userinfo@ : the user information ends at the first '@' before any '/', '?' or '#'.
    [GeneratedRegex(@"(?<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)(?<info>[^\s/?#@]+)@", RegexOptions.CultureInvariant)]
    private static partial Regex UserInfo();

    // name=value after the start, '?', '&', ';' or a space: query strings, form bodies, connection strings.
    [GeneratedRegex(@"(?<=^|[?&;\s])(?<name>[A-Za-z0-9_.\-\[\]]+)=(?<value>[^&;#\s""'<>]*)", RegexOptions.CultureInvariant)]
    private static partial Regex Parameter();
}
