using System.Net.Mail;
using System.Text.Json.Nodes;
using FluentValidation.Results;

namespace Scheduler.Modules.Notifications.Channels;

internal enum FieldKind { Text, Url, Port, Email, EmailList, TextList, Choice }

/// <summary>
/// One settings field of a channel type. Secret fields are stored encrypted and never returned;
/// <see cref="SentTo"/> names the field that says where a secret goes (a URL or host).
/// </summary>
internal sealed record FieldSpec(string Name, FieldKind Kind, bool Secret = false, bool Required = false, string[]? Choices = null, JsonNode? Default = null, string? SentTo = null);

/// <summary>The five channel types and the settings each takes.</summary>
internal static class ChannelTypes
{
    public const string Slack = "slack";
    public const string Teams = "teams";
    public const string Email = "email";
    public const string Sms = "sms";
    public const string Webhook = "webhook";

    public static readonly IReadOnlyDictionary<string, FieldSpec[]> Fields = new Dictionary<string, FieldSpec[]>
    {
        [Slack] =
        [
            new("webhook_url", FieldKind.Url, Secret: true),
            new("bot_token", FieldKind.Text, Secret: true, SentTo: "api_url"),
            new("slack_channel", FieldKind.Text),
            new("api_url", FieldKind.Url, Default: "https://slack.com/api"),
        ],
        [Teams] = [new("webhook_url", FieldKind.Url, Secret: true, Required: true)],
        [Email] =
        [
            new("host", FieldKind.Text, Required: true),
            new("port", FieldKind.Port, Default: 587),
            new("tls", FieldKind.Choice, Choices: ["auto", "none", "starttls", "ssl"], Default: "auto"),
            new("username", FieldKind.Text),
            new("password", FieldKind.Text, Secret: true, SentTo: "host"),
            new("from", FieldKind.Email, Required: true),
            new("to", FieldKind.EmailList, Required: true),
        ],
        [Sms] =
        [
            new("base_url", FieldKind.Url, Default: "https://api.twilio.com"),
            new("account_sid", FieldKind.Text, Required: true),
            new("auth_token", FieldKind.Text, Secret: true, Required: true, SentTo: "base_url"),
            new("from", FieldKind.Text, Required: true),
            new("to", FieldKind.TextList, Required: true),
        ],
        [Webhook] =
        [
            new("url", FieldKind.Url, Required: true),
            new("secret", FieldKind.Text, Secret: true, Required: true, SentTo: "url"),
            new("format", FieldKind.Choice, Choices: ["json", "cloudevents"], Default: "json"),
        ],
    };

    public static IEnumerable<string> Names => Fields.Keys;

    /// <summary>
    /// Checks <paramref name="given"/> against the type's fields and splits it into shown settings and
    /// secrets; a secret field left out keeps its <paramref name="previousSecrets"/> value (so a replace
    /// need not repeat secrets), one given as null is removed. A kept secret is never sent to a new
    /// destination: when its <see cref="FieldSpec.SentTo"/> field points to another origin (URL) or
    /// host than <paramref name="previousSettings"/> says, it must be given again (or set to null).
    /// Errors are keyed by JSON path (settings.field).
    /// </summary>
    public static (JsonObject Settings, JsonObject Secrets, List<ValidationFailure> Errors) Split(
        string type, JsonObject? given, JsonObject? previousSecrets, JsonObject? previousSettings = null)
    {
        var errors = new List<ValidationFailure>();
        var settings = new JsonObject();
        var secrets = new JsonObject();
        if (!Fields.TryGetValue(type, out var specs))
            return (settings, secrets, errors);
        given ??= [];
        foreach (var (key, _) in given)
            if (specs.All(s => s.Name != key))
                errors.Add(new ValidationFailure($"settings.{key}", $"'{key}' is not a setting of {type} channels; they take {string.Join(", ", specs.Select(s => s.Name))}."));
        foreach (var spec in specs)
        {
            var value = given[spec.Name];
            if (value is null && spec.Secret && !given.ContainsKey(spec.Name) && previousSecrets?[spec.Name] is { } kept)
            {
                if (spec.SentTo is { } destination && Moved(specs.Single(s => s.Name == destination), given, previousSettings))
                {
                    errors.Add(new ValidationFailure($"settings.{spec.Name}",
                        $"'{spec.Name}' must be given again (or set to null to remove it): '{destination}' now points to another destination, and a stored secret is never sent to a new one."));
                    continue;
                }
                value = kept.DeepClone();
            }
            if (value is null)
            {
                if (spec.Required)
                    errors.Add(new ValidationFailure($"settings.{spec.Name}", $"'{spec.Name}' is required for {type} channels."));
                else if (spec.Default is not null)
                    settings[spec.Name] = spec.Default.DeepClone();
                continue;
            }
            if (Check(spec, value) is { } error)
            {
                errors.Add(new ValidationFailure($"settings.{spec.Name}", error));
                continue;
            }
            (spec.Secret ? secrets : settings)[spec.Name] = value.DeepClone();
        }
        if (type == Slack && errors.Count == 0 && secrets["webhook_url"] is null && (secrets["bot_token"] is null || settings["slack_channel"] is null))
            errors.Add(new ValidationFailure("settings.webhook_url", "A slack channel needs 'webhook_url', or 'bot_token' with 'slack_channel'."));
        if (type == Webhook && secrets["secret"]?.GetValue<string>() is { Length: < 16 })
            errors.Add(new ValidationFailure("settings.secret", "'secret' must be at least 16 characters."));
        return (settings, secrets, errors);
    }

    /// <summary>
    /// True when the destination field's new value (given, or its default) is not where the
    /// stored one pointed: another scheme, host or port for a URL, another host name for a host.
    /// A value that does not parse counts as moved.
    /// </summary>
    private static bool Moved(FieldSpec destination, JsonObject given, JsonObject? previousSettings)
    {
        static string? Text(JsonNode? node) => node?.GetValueKind() == System.Text.Json.JsonValueKind.String ? node.GetValue<string>().Trim() : null;
        var before = Text(previousSettings?[destination.Name]);
        var after = Text(given[destination.Name] ?? destination.Default);
        if (before is null || after is null)
            return true;
        if (destination.Kind != FieldKind.Url)
            return !string.Equals(before, after, StringComparison.OrdinalIgnoreCase);
        return !Uri.TryCreate(before, UriKind.Absolute, out var old) || !Uri.TryCreate(after, UriKind.Absolute, out var now)
            || !string.Equals(old.Scheme, now.Scheme, StringComparison.OrdinalIgnoreCase)
            || !string.Equals(old.IdnHost, now.IdnHost, StringComparison.OrdinalIgnoreCase)
            || old.Port != now.Port;
    }

    private static string? Check(FieldSpec spec, JsonNode value)
    {
        string? Text() => value.GetValueKind() == System.Text.Json.JsonValueKind.String ? value.GetValue<string>() : null;
        switch (spec.Kind)
        {
            case FieldKind.Port:
                return value.GetValueKind() == System.Text.Json.JsonValueKind.Number && value.AsValue().TryGetValue<int>(out var port) && port is >= 1 and <= 65535
                    ? null : $"'{spec.Name}' must be a port number (1-65535).";
            case FieldKind.EmailList or FieldKind.TextList:
                if (value is not JsonArray items || items.Count == 0 || items.Count > 100)
                    return $"'{spec.Name}' must be a list of 1 to 100 recipients.";
                foreach (var item in items)
                {
                    if (item?.GetValueKind() != System.Text.Json.JsonValueKind.String || string.IsNullOrWhiteSpace(item.GetValue<string>()))
                        return $"'{spec.Name}' must hold non-empty strings.";
                    if (spec.Kind == FieldKind.EmailList && !IsEmail(item.GetValue<string>()))
                        return $"'{item.GetValue<string>()}' in '{spec.Name}' is not an email address.";
                }
                return null;
        }
        var text = Text();
        if (string.IsNullOrWhiteSpace(text) || text.Length > 2000)
            return $"'{spec.Name}' must be a non-empty string of at most 2000 characters.";
        return spec.Kind switch
        {
            FieldKind.Url when !Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") => $"'{spec.Name}' must be an absolute http(s) URL.",
            FieldKind.Email when !IsEmail(text) => $"'{spec.Name}' is not an email address.",
            FieldKind.Choice when !spec.Choices!.Contains(text) => $"'{spec.Name}' must be one of {string.Join(", ", spec.Choices!)}.",
            _ => null,
        };
    }

    private static bool IsEmail(string text) => MailAddress.TryCreate(text, out var address) && address.Address == text.Trim() && text.Contains('@');
}
