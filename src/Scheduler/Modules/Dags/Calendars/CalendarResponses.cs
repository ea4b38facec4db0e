using System.Text.Json.Serialization;

namespace Scheduler.Modules.Dags.Calendars;

/// <summary>What the calendar use cases return.</summary>
internal static class CalendarResponses
{
    public sealed record Info(
        string Name,
        string Timezone,
        IReadOnlyList<string> ExcludeDates,
        IReadOnlyList<RangeInfo> ExcludeRanges,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Holidays,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Description,
        DateTimeOffset CreatedAt,
        DateTimeOffset UpdatedAt);

    public sealed record RangeInfo(string From, string To);

    public static Info ToInfo(StoredCalendar row)
    {
        var d = row.Read();
        return new Info(row.Name, d.Timezone ?? "UTC", d.ExcludeDates ?? [],
            (d.ExcludeRanges ?? []).Select(r => new RangeInfo(r!.From!, r.To!)).ToList(),
            d.Holidays, d.Description, row.CreatedAt, row.UpdatedAt);
    }
}
