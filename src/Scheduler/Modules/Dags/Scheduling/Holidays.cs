using System.Collections.Concurrent;
using PublicHoliday;

namespace Scheduler.Modules.Dags.Scheduling;

/// <summary>
/// Public holidays by ISO 3166-1 alpha-2 country code, from the PublicHoliday package. The
/// observed date counts (the day off when a holiday falls on a weekend). Computed once per
/// country and year, then kept: the package's rules do not change while the process runs.
/// </summary>
internal static class Holidays
{
    /// <summary>The countries the package implements (its <c>PublicHolidayCountryCode</c>, without its non-ISO alias <c>PO</c>).</summary>
    public static readonly IReadOnlyDictionary<string, PublicHolidayCountryCode> Countries = new Dictionary<string, PublicHolidayCountryCode>(StringComparer.Ordinal)
    {
        ["AT"] = PublicHolidayCountryCode.At, ["AU"] = PublicHolidayCountryCode.Au, ["BE"] = PublicHolidayCountryCode.Be,
        ["BR"] = PublicHolidayCountryCode.Br, ["CA"] = PublicHolidayCountryCode.Ca, ["CH"] = PublicHolidayCountryCode.Ch,
        ["CZ"] = PublicHolidayCountryCode.Cz, ["DE"] = PublicHolidayCountryCode.De, ["DK"] = PublicHolidayCountryCode.Dk,
        ["EE"] = PublicHolidayCountryCode.Ee, ["ES"] = PublicHolidayCountryCode.Es, ["FI"] = PublicHolidayCountryCode.Fi,
        ["FR"] = PublicHolidayCountryCode.Fr, ["GB"] = PublicHolidayCountryCode.Gb, ["GR"] = PublicHolidayCountryCode.Gr,
        ["HR"] = PublicHolidayCountryCode.Hr, ["HU"] = PublicHolidayCountryCode.Hu, ["IE"] = PublicHolidayCountryCode.Ie,
        ["IT"] = PublicHolidayCountryCode.It, ["JP"] = PublicHolidayCountryCode.Jp, ["KZ"] = PublicHolidayCountryCode.Kz,
        ["LT"] = PublicHolidayCountryCode.Lt, ["LU"] = PublicHolidayCountryCode.Lu, ["LV"] = PublicHolidayCountryCode.Lv,
        ["MX"] = PublicHolidayCountryCode.Mx, ["NL"] = PublicHolidayCountryCode.Nl, ["NO"] = PublicHolidayCountryCode.No,
        ["NZ"] = PublicHolidayCountryCode.Nz, ["PL"] = PublicHolidayCountryCode.Pl, ["PT"] = PublicHolidayCountryCode.Pt,
        ["RO"] = PublicHolidayCountryCode.Ro, ["RS"] = PublicHolidayCountryCode.Rs, ["SE"] = PublicHolidayCountryCode.Se,
        ["SI"] = PublicHolidayCountryCode.Si, ["SK"] = PublicHolidayCountryCode.Sk, ["TR"] = PublicHolidayCountryCode.Tr,
        ["US"] = PublicHolidayCountryCode.Us, ["ZA"] = PublicHolidayCountryCode.Za,
    };

    private static readonly ConcurrentDictionary<(string Country, int Year), IReadOnlyDictionary<DateOnly, string>> Years = new();

    /// <summary>The holiday's English name when <paramref name="day"/> is a public holiday (observed) of the country.</summary>
    public static string? Name(string country, DateOnly day)
    {
        // Observed dates of holidays at a year's edge can cross into the next or previous year.
        foreach (var year in (ReadOnlySpan<int>)[day.Year, day.Year - 1, day.Year + 1])
            if (year is > 1 and < 9999 && Of(country, year).TryGetValue(day, out var name))
                return name;
        return null;
    }

    private static IReadOnlyDictionary<DateOnly, string> Of(string country, int year) => Years.GetOrAdd((country, year), key =>
    {
        var days = new Dictionary<DateOnly, string>();
        if (!Countries.TryGetValue(key.Country, out var code))
            return days;
        foreach (var holiday in PublicHolidayFactory.GetPublicHolidayForCountry(code).PublicHolidaysInformation(key.Year))
            days.TryAdd(DateOnly.FromDateTime(holiday.ObservedDate), holiday.EnglishName ?? holiday.Name ?? "holiday");
        return days;
    });
}
