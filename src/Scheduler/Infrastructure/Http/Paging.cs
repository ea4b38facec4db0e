using System.Buffers.Text;
using System.Text;
using FluentValidation;

namespace Scheduler.Infrastructure.Http;

/// <summary>A page of a list: <c>{ "items": [...], "next_cursor": "..." | null }</c>.</summary>
internal sealed record Page<T>(IReadOnlyList<T> Items, [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.Never)] string? NextCursor);

/// <summary>
/// Opaque keyset cursors: the sort key of the last item, base64url-encoded. Keyset paging
/// stays an index range scan on page 1,000 as on page 1, unlike OFFSET.
/// </summary>
internal static class Cursor
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 500;

    public static string Encode(string key) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(key));

    /// <summary>Decodes strictly: not base64url, not UTF-8, or text PostgreSQL cannot compare (a NUL) is not a cursor this server issued.</summary>
    public static bool TryDecode(string? cursor, out string? key)
    {
        key = null;
        if (string.IsNullOrEmpty(cursor))
            return true;
        if (cursor.Length > MaxCursorLength)
            return false;
        try
        {
            key = StrictUtf8.GetString(Base64Url.DecodeFromChars(cursor));
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            return false;
        }
        if (key.Length == 0 || !Text.PostgresText.IsStorable(key))
        {
            key = null;
            return false;
        }
        return true;
    }

    /// <summary>A cursor whose key is an id (the last item's), or no cursor (<paramref name="id"/> null).</summary>
    public static bool TryDecodeId(string? cursor, out long? id)
    {
        id = null;
        if (!TryDecode(cursor, out var key))
            return false;
        if (key is null)
            return true;
        if (!long.TryParse(key, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var parsed))
            return false;
        id = parsed;
        return true;
    }

    /// <summary>Cursors this server issues are short; a longer one is garbage, refused before it is decoded.</summary>
    private const int MaxCursorLength = 2048;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static Page<T> ToPage<T>(List<T> fetched, int limit, Func<T, string> key) =>
        fetched.Count > limit
            ? new Page<T>(fetched.GetRange(0, limit), Encode(key(fetched[limit - 1])))
            : new Page<T>(fetched, null);

    public static IRuleBuilderOptions<T, int?> ValidLimit<T>(this IRuleBuilder<T, int?> rule) =>
        rule.InclusiveBetween(1, MaxLimit).WithMessage($"'limit' must be between 1 and {MaxLimit}.");

    /// <summary>A cursor this server issued: it decodes, and its key passes <paramref name="key"/> when given.</summary>
    public static IRuleBuilderOptions<T, string?> ValidCursor<T>(this IRuleBuilder<T, string?> rule, Func<string, bool>? key = null) =>
        rule.Must(c => TryDecode(c, out var k) && (k is null || key is null || key(k))).WithMessage("'cursor' is not a cursor this server issued.");

    /// <summary>A cursor whose key is an id: see <see cref="TryDecodeId"/>.</summary>
    public static IRuleBuilderOptions<T, string?> ValidIdCursor<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(c => TryDecodeId(c, out _)).WithMessage("'cursor' is not a cursor this server issued.");
}
