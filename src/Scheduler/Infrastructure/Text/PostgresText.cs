namespace Scheduler.Infrastructure.Text;

/// <summary>
/// What PostgreSQL's text type refuses: U+0000, and UTF-16 that has no UTF-8 form (a lone
/// surrogate, which Npgsql's strict encoder rejects). Task output is bytes that only look
/// like text, so everything a task produced passes through <see cref="Clean"/> before it is
/// stored: a write of task output never fails, and therefore never decides a task's fate.
/// </summary>
internal static class PostgresText
{
    /// <summary>Why such text is refused as input, for a validation error.</summary>
    public const string Refused = "must not contain U+0000 (NUL), a lone UTF-16 surrogate or bytes that are not UTF-8: such text cannot be stored.";

    /// <summary>Stands for a NUL byte in stored text (U+2400 SYMBOL FOR NULL).</summary>
    public const char NulMark = '\u2400';

    /// <summary>True when <paramref name="text"/> can be stored as PostgreSQL text as it is.</summary>
    public static bool IsStorable(ReadOnlySpan<char> text) => FirstBad(text) < 0;

    /// <summary>
    /// The text with each NUL replaced by <see cref="NulMark"/> and each lone surrogate by
    /// U+FFFD; the same instance when nothing needs replacing (the common case costs a scan).
    /// </summary>
    public static string Clean(string text)
    {
        var first = FirstBad(text);
        if (first < 0)
            return text;
        var chars = text.ToCharArray();
        for (var i = first; i < chars.Length; i++)
        {
            var c = chars[i];
            if (c == '\0')
                chars[i] = NulMark;
            else if (char.IsHighSurrogate(c) && i + 1 < chars.Length && char.IsLowSurrogate(chars[i + 1]))
                i++;
            else if (char.IsSurrogate(c))
                chars[i] = '\uFFFD';
        }
        return new string(chars);
    }

    /// <inheritdoc cref="Clean(string)"/>
    public static string? CleanOrNull(string? text) => text is null ? null : Clean(text);

    private static int FirstBad(ReadOnlySpan<char> text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\0')
                return i;
            if (!char.IsSurrogate(c))
                continue;
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
                continue;
            }
            return i;
        }
        return -1;
    }
}
