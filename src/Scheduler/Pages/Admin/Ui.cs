using System.Globalization;

namespace Scheduler.Pages.Admin;

/// <summary>Formatting shared by the pages: times, durations, ages, state CSS classes.</summary>
internal static class Ui
{
    public static readonly string[] FinalRunStates = ["success", "failed", "cancelled"];
    public static readonly string[] FinalTaskStates = ["success", "failed", "upstream_failed", "skipped", "cancelled"];

    public static string Time(DateTimeOffset? t) => t is { } v ? v.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) : "";

    public static string Iso(DateTimeOffset? t) => t is { } v ? v.UtcDateTime.ToString("O", CultureInfo.InvariantCulture) : "";

    public static string Duration(TimeSpan? d)
    {
        if (d is not { } v)
            return "";
        if (v < TimeSpan.Zero)
            v = TimeSpan.Zero;
        if (v.TotalSeconds < 10)
            return v.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + "s";
        if (v.TotalMinutes < 1)
            return ((int)v.TotalSeconds).ToString(CultureInfo.InvariantCulture) + "s";
        if (v.TotalHours < 1)
            return $"{(int)v.TotalMinutes}m {v.Seconds:00}s";
        return $"{(int)v.TotalHours}h {v.Minutes:00}m";
    }

    public static string Duration(DateTimeOffset? start, DateTimeOffset? end, DateTimeOffset now) =>
        start is { } s ? Duration((end ?? now) - s) : "";

    public static string Ago(DateTimeOffset t, DateTimeOffset now) => Duration(now - t) + " ago";

    /// <summary>A number for SVG attributes: invariant culture whatever the server's culture.</summary>
    public static string N(double value) => Math.Round(value, 1).ToString(CultureInfo.InvariantCulture);

    /// <summary>At most <paramref name="max"/> characters, the last one an ellipsis when cut.</summary>
    public static string Clip(string text, int max) => text.Length > max ? text[..(max - 1)] + "…" : text;

    public static string State(string? state) => "s-" + (state ?? "none");

    public static bool IsFinalRun(string state) => FinalRunStates.Contains(state);

    public static bool IsFinalTask(string state) => FinalTaskStates.Contains(state);
}
