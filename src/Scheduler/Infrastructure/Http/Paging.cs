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

    public static bool TryDecode(string? cursor, out string? key)
    {
        key = null;
        if (string.IsNullOrEmpty(cursor))
            return true;
        try
        {
            key = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor));
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    public static Page<T> ToPage<T>(List<T> fetched, int limit, Func<T, string> key) =>
        fetched.Count > limit
            ? new Page<T>(fetched.GetRange(0, limit), Encode(key(fetched[limit - 1])))
            : new Page<T>(fetched, null);

    public static IRuleBuilderOptions<T, int?> ValidLimit<T>(this IRuleBuilder<T, int?> rule) =>
        rule.InclusiveBetween(1, MaxLimit).WithMessage($"'limit' must be between 1 and {MaxLimit}.");

    public static IRuleBuilderOptions<T, string?> ValidCursor<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(c => TryDecode(c, out _)).WithMessage("'cursor' is not a cursor this server issued.");
}
