using System.Text;

namespace Scheduler.IntegrationTests.Fuzz;

/// <summary>
/// What an attacker or a careless script sends: control characters, text PostgreSQL refuses,
/// numbers at and past the edges, garbage cursors and dates, very long and very deep values.
/// </summary>
public static class BadValues
{
    /// <summary>Strings for a path segment: never empty, "." or ".." (the client would rewrite the path) and no NUL (Kestrel refuses %00 in a path before the app sees it).</summary>
    public static readonly string[] PathStrings =
    [
        "a b", "\u0001\u001f", "\t\n\r", "\u007f", "ünïcödé", "😀", "\u202egnp.exe", "\u200b", "' or 1=1 --", "%", "_", "\\", "*",
        "{{ x }}", "${x}", "../../etc/passwd", "<script>alert(1)</script>", "-1", "0", "9223372036854775808", "1e309", "NaN",
        "a.b", "A", new string('a', 201), new string('z', 1500), "name with/slash", "café", "\uFEFFbom", "x;y", "?q=1", "#frag",
    ];

    /// <summary>Strings for a query value or a JSON string: the path strings and what a path cannot carry.</summary>
    public static readonly string[] Strings =
    [
        .. PathStrings, "", " ", "\0", "a\0b", "\0\0\0", new string('q', 4000), "true", "null", "[]", "{}",
    ];

    /// <summary>Already percent-encoded query values that are not UTF-8 (or encode a NUL).</summary>
    public static readonly string[] EncodedQueryValues = ["%ED%A0%80", "%FF", "a%FEb", "%C0%80", "%00", "%E2%82", "%F4%90%80%80"];

    public static readonly string[] Integers =
    [
        "0", "-1", "1", "10", "500", "501", "1000", "1001", "2147483647", "2147483648", "-2147483649", "9223372036854775807",
        "9223372036854775808", "-9223372036854775809", "99999999999999999999999", "1.5", "1e3", "0x1F", " 5", "abc", "",
    ];

    public static readonly string[] Booleans = ["true", "false", "TRUE", "yes", "1", "0", "", "null", "tru"];

    public static readonly string[] Dates =
    [
        "9999-12-31T23:59:59Z", "9999-12-31T00:00:00Z", "0001-01-01T00:00:00Z", "10000-01-01T00:00:00Z", "2026-02-30T00:00:00Z",
        "2026-13-01T00:00:00Z", "not-a-date", "2026-01-01", "2026-01-01T00:00:00+14:00", "2026-01-01T00:00:00-12:00",
        "-0001-01-01T00:00:00Z", "2026-01-01T25:00:00Z", "1970-01-01T00:00:00Z", "2027-06-01T12:00:00.1234567Z", "",
    ];

    public static readonly string[] Cursors =
    [
        "AA", "_w", "!!!", "====", "A", B64("9223372036854775808"), B64("-1"), B64("x|y"), B64("2026-01-01T00:00:00Z|1"),
        B64("9999-12-31T23:59:59Z|9223372036854775807"), B64("0001-01-01T00:00:00Z|-9223372036854775808"), B64("\0"),
        B64("a\0b"), B64(new string('c', 3000)), new string('A', 5000), B64("1"), B64(" 1"), B64("zzz"), "",
    ];

    /// <summary>Durations for <c>PT1H</c>-style fields.</summary>
    public static readonly string[] Durations = ["PT0S", "-PT1S", "P99999999D", "PT1.5S", "P1Y", "PT", "P", "1d", "PT1H", "P10000000000000000000D"];

    /// <summary>Raw JSON values that a JsonNode cannot hold: escapes of lone surrogates, numbers past double, deep nesting.</summary>
    public static readonly string[] RawJson =
    [
        "\"\\ud800\"", "\"a\\udc00b\"", "\"\\u0000\"", "\"x\\u0000\"", "1e309", "-1e309", "123456789012345678901234567890",
        "1e-400", "-0", "0.0000000000000000000001", Deep("[", "]", 1000), Deep("{\"a\":", "}", 200) .Replace("{\"a\":}", "{\"a\":1}"),
        "\"" + new string('x', 100_000) + "\"", "{}", "[]", "\"\"", "true", "null", "[null]", "[\"\\u0000\"]", "{\"\\u0000\":1}",
        "{\"\\ud800\":1}", "{\"a\":1,\"a\":2}",
    ];

    /// <summary>Whole bodies that are not JSON objects, or not JSON, or not UTF-8.</summary>
    public static readonly byte[][] RawBodies =
    [
        [0xFF, 0xFE, 0x00],
        Encoding.UTF8.GetBytes("{\"name\":\"x\""),
        Encoding.UTF8.GetBytes("{\"name\":\"\u0001\"}"),
        [(byte)'{', (byte)'"', (byte)'a', (byte)'"', (byte)':', (byte)'"', 0xED, 0xA0, 0x80, (byte)'"', (byte)'}'],
        [(byte)'{', (byte)'"', 0xC3, (byte)'"', (byte)':', (byte)'1', (byte)'}'],
        [0xEF, 0xBB, 0xBF, (byte)'{', (byte)'}'],
        Encoding.UTF8.GetBytes("null"),
        Encoding.UTF8.GetBytes("[]"),
        Encoding.UTF8.GetBytes("\"just a string\""),
        Encoding.UTF8.GetBytes("42"),
        Encoding.UTF8.GetBytes(Deep("[", "]", 1000)),
        Encoding.UTF8.GetBytes("{\"a\":" + Deep("{\"b\":", "}", 1000).Replace("{\"b\":}", "1") + "}"),
        Encoding.UTF8.GetBytes("{/* comment */}"),
        Encoding.UTF8.GetBytes("{\"a\":1,}"),
        Encoding.UTF8.GetBytes("{'a':1}"),
        Encoding.UTF8.GetBytes("{\"a\":NaN}"),
        [],
        Encoding.UTF8.GetBytes(" \r\n\t "),
        [0x00, 0x00, 0x00, 0x00],
    ];

    private static string B64(string key) => Convert.ToBase64String(Encoding.UTF8.GetBytes(key)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string Deep(string open, string close, int depth) => string.Concat(Enumerable.Repeat(open, depth)) + string.Concat(Enumerable.Repeat(close, depth));
}
