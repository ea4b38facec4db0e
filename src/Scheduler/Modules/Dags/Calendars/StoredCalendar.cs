using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using Scheduler.Infrastructure.Json;
using Scheduler.Infrastructure.Schedules;
using Scheduler.Modules.Dags.Scheduling;

namespace Scheduler.Modules.Dags.Calendars;

/// <summary>A calendar row: its definition as JSON, and a revision that changes with every write.</summary>
internal sealed class StoredCalendar
{
    public long Id { get; set; }
    public required string Name { get; set; }
    public required string Definition { get; set; }
    public long Revision { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    public static void Configure(ModelBuilder model) => model.Entity<StoredCalendar>(e =>
    {
        e.ToTable("calendars");
        e.Property(c => c.Id).UseIdentityAlwaysColumn();
        e.Property(c => c.Definition).HasColumnType("jsonb");
        e.Property(c => c.Revision).HasDefaultValueSql("nextval('dags.calendar_revisions')");
        e.HasIndex(c => c.Name).IsUnique();
    });

    public CalendarDefinition Read() => JsonSerializer.Deserialize<CalendarDefinition>(Definition, JsonConventions.Options)!;

    /// <summary>The calendar as the fire-time function reads it; the definition was validated when stored.</summary>
    public ExclusionCalendar ToExclusion()
    {
        var d = Read();
        var zone = d.Timezone is not null && TimeZones.TryFind(d.Timezone, out var z) ? z : TimeZoneInfo.Utc;
        var dates = (d.ExcludeDates ?? []).Select(CalendarDefinition.ParseDay).OfType<DateOnly>().ToHashSet();
        var ranges = (d.ExcludeRanges ?? [])
            .Select(r => (From: CalendarDefinition.ParseDay(r?.From), To: CalendarDefinition.ParseDay(r?.To)))
            .Where(r => r.From is not null && r.To is not null)
            .Select(r => (r.From!.Value, r.To!.Value)).ToList();
        return new ExclusionCalendar(Name, zone, dates, ranges, d.Holidays?.ToUpperInvariant());
    }
}

/// <summary>A calendar as clients send it (<c>PUT /calendars/{name}</c>).</summary>
internal sealed class CalendarDefinition
{
    public string? Timezone { get; set; }
    public List<string>? ExcludeDates { get; set; }
    public List<DateRange?>? ExcludeRanges { get; set; }
    /// <summary>An ISO 3166-1 alpha-2 country code (<see cref="Scheduling.Holidays.Countries"/>).</summary>
    public string? Holidays { get; set; }
    public string? Description { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? UnknownFields { get; set; }

    /// <summary>A calendar day, written <c>YYYY-MM-DD</c>; null for anything else.</summary>
    public static DateOnly? ParseDay(string? text) =>
        DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day) ? day : null;
}

internal sealed class DateRange
{
    public string? From { get; set; }
    public string? To { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? UnknownFields { get; set; }
}
