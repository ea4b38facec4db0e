using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using Fluid;
using Fluid.Values;

namespace Scheduler.Infrastructure.Templates;

/// <summary>
/// The Liquid dialect of task fields (docs/authoring.md): Fluid's parser and filters, strict
/// about undefined variables and unknown filters (a typo fails the attempt instead of
/// rendering as empty), plus <c>add_days</c>, <c>add_hours</c> and <c>add_minutes</c> for
/// date arithmetic on ISO instants. Parsing and rendering are thread-safe: one parser and one
/// set of options serve every attempt.
/// </summary>
internal static class Liquid
{
    private static readonly FluidParser Parser = new();
    private static readonly TemplateOptions Options = CreateOptions();
    private static readonly ConcurrentDictionary<string, IFluidTemplate> Parsed = new(StringComparer.Ordinal);
    private const int MaxParsed = 10_000;

    /// <summary>True when the text holds Liquid markup; other text is used as it is, unparsed.</summary>
    public static bool IsTemplate(string? text) =>
        text is not null && (text.Contains("{{", StringComparison.Ordinal) || text.Contains("{%", StringComparison.Ordinal));

    /// <summary>Parses a template; the error says where it does not parse.</summary>
    public static bool TryParse(string text, out IFluidTemplate? template, out string? error)
    {
        if (Parser.TryParse(text, out var parsed, out error))
        {
            template = parsed;
            return true;
        }
        template = null;
        return false;
    }

    /// <summary>
    /// Renders a template text with these variables (parsed once per distinct text and
    /// process). Throws <see cref="TemplateException"/> naming the undefined variable,
    /// unknown filter or failing filter, or where the text does not parse.
    /// </summary>
    public static string Render(string text, IReadOnlyDictionary<string, FluidValue> variables)
    {
        if (!Parsed.TryGetValue(text, out var template))
        {
            if (!TryParse(text, out template, out var error))
                throw new TemplateException($"the template does not parse: {error}");
            if (Parsed.Count >= MaxParsed)
                Parsed.Clear();
            Parsed[text] = template!;
        }
        var context = new TemplateContext(Options);
        foreach (var (name, value) in variables)
            context.SetValue(name, value);
        try
        {
            return template!.Render(context);
        }
        catch (Exception e) when (e is InvalidOperationException or FluidException or FormatException or ArgumentException or TemplateException)
        {
            throw e as TemplateException ?? new TemplateException(e.Message, e);
        }
    }

    /// <summary>A JSON value as Liquid sees it: objects are dictionaries, arrays lists, numbers numbers.</summary>
    /// <paramref name="name"/> is the variable's name, which a missing member's error quotes.
    public static FluidValue ToValue(JsonNode? node, string name = "") => FluidValue.Create(ToPlain(node, name), Options);

    private static object? ToPlain(JsonNode? node, string path) => node switch
    {
        null => null,
        JsonObject o => new StrictMembers(path, o.ToDictionary(kv => kv.Key, kv => ToPlain(kv.Value, $"{path}.{kv.Key}"), StringComparer.Ordinal)),
        JsonArray a => a.Select((item, i) => ToPlain(item, $"{path}[{i}]")).ToList(),
        JsonValue v when v.TryGetValue<bool>(out var b) => b,
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonValue v when v.TryGetValue<decimal>(out var d) => d,
        JsonValue v when v.TryGetValue<double>(out var d) => d,
        _ => node.ToJsonString(),
    };

    private static TemplateOptions CreateOptions()
    {
        var options = new TemplateOptions
        {
            StrictVariables = true,
            StrictFilters = true,
            TimeZone = TimeZoneInfo.Utc,
            CultureInfo = CultureInfo.InvariantCulture,
        };
        options.Filters.AddFilter("add_days", (input, args, ctx) => Shift(input, args, ctx, TimeSpan.FromDays(1)));
        options.Filters.AddFilter("add_hours", (input, args, ctx) => Shift(input, args, ctx, TimeSpan.FromHours(1)));
        options.Filters.AddFilter("add_minutes", (input, args, ctx) => Shift(input, args, ctx, TimeSpan.FromMinutes(1)));
        return options;
    }

    /// <summary>An instant (or a <c>YYYY-MM-DD</c> date) moved by N units; the result keeps the input's form.</summary>
    private static ValueTask<FluidValue> Shift(FluidValue input, FilterArguments arguments, TemplateContext context, TimeSpan unit)
    {
        var amount = arguments.At(0).ToNumberValue();
        var text = input.ToStringValue();
        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
        {
            var shifted = day.ToDateTime(TimeOnly.MinValue).Add(unit * (double)amount);
            return new StringValue(shifted.TimeOfDay == TimeSpan.Zero
                ? DateOnly.FromDateTime(shifted).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)
                : new DateTimeOffset(shifted, TimeSpan.Zero).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
        }
        if (!input.TryGetDateTimeInput(context, out var instant))
            throw new TemplateException($"'{text}' is not a date or an instant (add_days and its kin take 'YYYY-MM-DD' or an ISO 8601 instant).");
        return new StringValue(instant.Add(unit * (double)amount).ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
    }
}

/// <summary>A template that could not be rendered: the message names the variable or filter.</summary>
internal sealed class TemplateException(string message, Exception? inner = null) : Exception(message, inner);
