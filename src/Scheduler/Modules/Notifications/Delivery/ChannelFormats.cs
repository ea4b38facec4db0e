using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using MimeKit;
using Scheduler.Modules.Notifications.Channels;
using Scheduler.Modules.Notifications.Contracts;

namespace Scheduler.Modules.Notifications.Delivery;

/// <summary>A message in each channel's own format (Slack blocks, a Teams card, an email, an SMS text); <see cref="ChannelSender"/> sends them.</summary>
internal static class ChannelFormats
{
    public static JsonObject SlackBlocks(NotificationMessage m)
    {
        var blocks = new JsonArray
        {
            new JsonObject { ["type"] = "header", ["text"] = PlainText(Limit(m.Title, 150)) },
            new JsonObject { ["type"] = "section", ["text"] = Markdown(Limit(m.Summary, 3000)) },
        };
        foreach (var chunk in m.Facts.Chunk(10))
            blocks.Add(new JsonObject
            {
                ["type"] = "section",
                ["fields"] = new JsonArray(chunk.Select(f => (JsonNode)Markdown(Limit($"*{f.Key}*\n{f.Value}", 2000))).ToArray()),
            });
        if (m.Items.Count > 0)
        {
            var shown = m.Items.Take(40).Select(i => "• " + i).ToList();
            if (m.Items.Count > 40)
                shown.Add($"... and {m.Items.Count - 40} more");
            blocks.Add(new JsonObject { ["type"] = "section", ["text"] = Markdown(Limit($"*{m.ItemsTitle}*\n{string.Join('\n', shown)}", 3000)) });
        }
        if (m.Link is not null)
            blocks.Add(new JsonObject
            {
                ["type"] = "actions",
                ["elements"] = new JsonArray(new JsonObject { ["type"] = "button", ["text"] = PlainText("Open in Scheduler"), ["url"] = m.Link }),
            });
        return new JsonObject { ["text"] = $"{m.Title}: {m.Summary}", ["blocks"] = blocks };

        static JsonObject PlainText(string text) => new() { ["type"] = "plain_text", ["text"] = text };
        static JsonObject Markdown(string text) => new() { ["type"] = "mrkdwn", ["text"] = text };
    }

    public static JsonObject TeamsCard(NotificationMessage m)
    {
        var body = new JsonArray
        {
            new JsonObject
            {
                ["type"] = "TextBlock", ["text"] = m.Title, ["weight"] = "Bolder", ["size"] = "Medium", ["wrap"] = true,
                ["color"] = m.Severity switch { Severity.Good => "Good", Severity.Warning => "Warning", Severity.Danger => "Attention", _ => "Default" },
            },
            new JsonObject { ["type"] = "TextBlock", ["text"] = m.Summary, ["wrap"] = true },
            new JsonObject
            {
                ["type"] = "FactSet",
                ["facts"] = new JsonArray(m.Facts.Select(f => (JsonNode)new JsonObject { ["title"] = f.Key, ["value"] = f.Value }).ToArray()),
            },
        };
        if (m.Items.Count > 0)
            body.Add(new JsonObject { ["type"] = "TextBlock", ["wrap"] = true, ["text"] = $"**{m.ItemsTitle}**\n\n" + string.Join("\n\n", m.Items.Take(50).Select(i => "- " + i)) });
        var card = new JsonObject
        {
            ["$schema"] = "http://adaptivecards.io/schemas/adaptive-card.json",
            ["type"] = "AdaptiveCard",
            ["version"] = "1.4",
            ["body"] = body,
        };
        if (m.Link is not null)
            card["actions"] = new JsonArray(new JsonObject { ["type"] = "Action.OpenUrl", ["title"] = "Open in Scheduler", ["url"] = m.Link });
        return new JsonObject
        {
            ["type"] = "message",
            ["attachments"] = new JsonArray(new JsonObject { ["contentType"] = "application/vnd.microsoft.card.adaptive", ["content"] = card }),
        };
    }

    public static MimeMessage Mail(ChannelConfig channel, NotificationMessage m)
    {
        var mail = new MimeMessage();
        mail.From.Add(MailboxAddress.Parse(channel.Text("from")!));
        foreach (var to in channel.List("to"))
            mail.To.Add(MailboxAddress.Parse(to));
        mail.Subject = "[Scheduler] " + m.Title;
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html><html><body style=\"font-family:sans-serif\">");
        html.Append(CultureInfo.InvariantCulture, $"<h2>{Html(m.Title)}</h2><p>{Html(m.Summary)}</p><table>");
        foreach (var f in m.Facts)
            html.Append(CultureInfo.InvariantCulture, $"<tr><th align=\"left\">{Html(f.Key)}</th><td>{Html(f.Value)}</td></tr>");
        html.Append("</table>");
        if (m.Items.Count > 0)
            html.Append(CultureInfo.InvariantCulture, $"<p><b>{Html(m.ItemsTitle ?? "")}</b></p><ul>{string.Concat(m.Items.Take(500).Select(i => $"<li>{Html(i)}</li>"))}</ul>");
        if (m.Link is not null)
            html.Append(CultureInfo.InvariantCulture, $"<p><a href=\"{Html(m.Link)}\">Open in Scheduler</a></p>");
        html.Append("</body></html>");
        mail.Body = new BodyBuilder { TextBody = m.PlainText(500), HtmlBody = html.ToString() }.ToMessageBody();
        return mail;
    }

    private static string Html(string text) => System.Net.WebUtility.HtmlEncode(text);

    public static string SmsText(NotificationMessage m)
    {
        var text = m.Link is null ? $"{m.Title}. {m.Summary}" : $"{m.Title}. {m.Summary} {m.Link}";
        return Limit(text, 1600);
    }

    public static string Limit(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";
}
