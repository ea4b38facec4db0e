namespace Scheduler.Infrastructure.Validation;

/// <summary>
/// The one rule for asset URIs (task <c>outlets</c>, DAG <c>schedule_on_assets</c>, posted
/// events): an absolute URI with a scheme (<c>s3://bucket/key</c>, <c>postgres://db/schema/table</c>,
/// <c>file:///data/x.csv</c>), at most <see cref="MaxLength"/> characters, no white space or
/// control characters. Compared as written (case-sensitive), as Airflow compares them.
/// </summary>
internal static partial class AssetUris
{
    public const int MaxLength = 1_000;

    /// <summary>Null when <paramref name="uri"/> is a valid asset URI, else why not.</summary>
    public static string? Problem(string? uri)
    {
        if (string.IsNullOrEmpty(uri))
            return "an asset URI must not be empty.";
        if (uri.Length > MaxLength)
            return $"an asset URI has at most {MaxLength} characters.";
        if (!Text.PostgresText.IsStorable(uri) || uri.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
            return $"'{Shown(uri)}' contains white space or control characters; an asset URI may not.";
        // The scheme as written (two characters at least, so 'c:/data' is no drive-letter path).
        if (!Scheme().IsMatch(uri) || !Uri.TryCreate(uri, UriKind.Absolute, out _))
            return $"'{Shown(uri)}' is not an absolute URI with a scheme (e.g. 's3://bucket/key').";
        return null;
    }

    [System.Text.RegularExpressions.GeneratedRegex("^[A-Za-z][A-Za-z0-9+.-]+:")]
    private static partial System.Text.RegularExpressions.Regex Scheme();

    private static string Shown(string uri) => uri.Length > 100 ? uri[..100] + "..." : uri;
}
