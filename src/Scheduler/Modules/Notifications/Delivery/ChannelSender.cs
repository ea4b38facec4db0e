using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MailKit.Net.Smtp;
using MailKit.Security;
using Scheduler.Infrastructure.Net;
using Scheduler.Infrastructure.Text;
using Scheduler.Modules.Notifications.Channels;
using Scheduler.Modules.Notifications.Contracts;

namespace Scheduler.Modules.Notifications.Delivery;

/// <summary>A channel answered, but not with success; the message says what it answered.</summary>
internal sealed class ChannelException(string message) : Exception(message);

/// <summary>
/// Renders a message in each channel's own format and sends it. Throws on any failure, so the
/// caller (a delivery job, or the test-send endpoint) decides about retries.
/// </summary>
internal sealed class ChannelSender(IHttpClientFactory http, EgressConnector egress, TimeProvider clock, Microsoft.Extensions.Options.IOptions<NotificationOptions> options, ILogger<ChannelSender> logger)
{
    public const string ClientName = "notifications";

    /// <summary>Sends; returns a new reference of a message updated in place (a Slack digest's ts), else null.</summary>
    public async Task<string?> SendAsync(ChannelConfig channel, NotificationMessage message, CancellationToken ct, long? deliveryId = null)
    {
        switch (channel.Type)
        {
            case ChannelTypes.Slack:
                return await SlackAsync(channel, message, ct);
            case ChannelTypes.Teams:
                await PostJsonAsync(channel.Text("webhook_url")!, ChannelFormats.TeamsCard(message), null, ct);
                return null;
            case ChannelTypes.Email:
                await EmailAsync(channel, message, ct);
                return null;
            case ChannelTypes.Sms:
                await SmsAsync(channel, message, ct);
                return null;
            case ChannelTypes.Webhook:
                await WebhookAsync(channel, message, deliveryId, ct);
                return null;
            default:
                throw new ChannelException($"Unknown channel type '{channel.Type}'.");
        }
    }

    /// <summary>
    /// A short, secret-free description of a failure for the delivery history: credentials
    /// in a URI (the receiver's answer quoted in it included) are masked.
    /// </summary>
    public static string Describe(Exception e) => SecretMask.Mask(e switch
    {
        ChannelException c => c.Message,
        HttpRequestException h => $"HTTP request failed: {h.Message}",
        TaskCanceledException or OperationCanceledException => "Timed out.",
        _ => $"{e.GetType().Name}: {e.Message}",
    });

    // ------------------------------------------------------------------ Slack

    private async Task<string?> SlackAsync(ChannelConfig channel, NotificationMessage message, CancellationToken ct)
    {
        var payload = ChannelFormats.SlackBlocks(message);
        var token = channel.Text("bot_token");
        var target = channel.Text("slack_channel");
        if (token is null || target is null)
        {
            await PostJsonAsync(channel.Text("webhook_url")!, payload, null, ct);
            return null;
        }
        var api = channel.Text("api_url")!.TrimEnd('/');
        payload["channel"] = target;
        // A digest is one message, edited in place while Slack still has it.
        if (message.Kind == NotificationEvents.Digest && channel.DigestMessageRef is { } ts)
        {
            payload["ts"] = ts;
            var updated = await SlackApiAsync($"{api}/chat.update", token, payload, ct);
            if (updated["ok"]?.GetValue<bool>() == true)
                return ts;
            logger.LogInformation("Slack could not update digest message {Ts} ({Error}); posting a new one", ts, updated["error"]);
            payload.Remove("ts");
        }
        var posted = await SlackApiAsync($"{api}/chat.postMessage", token, payload, ct);
        if (posted["ok"]?.GetValue<bool>() != true)
            throw new ChannelException($"Slack refused the message: {posted["error"]?.ToString() ?? "no error given"}.");
        return message.Kind == NotificationEvents.Digest ? posted["ts"]?.ToString() : null;
    }

    private async Task<JsonObject> SlackApiAsync(string url, string token, JsonObject payload, CancellationToken ct)
    {
        var text = await PostJsonAsync(url, payload, new AuthenticationHeaderValue("Bearer", token), ct);
        try
        {
            return JsonNode.Parse(text) as JsonObject ?? throw new ChannelException("Slack answered with something other than a JSON object.");
        }
        catch (JsonException)
        {
            throw new ChannelException("Slack answered with something other than JSON.");
        }
    }

    // ------------------------------------------------------------------ Teams

    // ------------------------------------------------------------------ email

    private async Task EmailAsync(ChannelConfig channel, NotificationMessage message, CancellationToken ct)
    {
        using var smtp = new SmtpClient { Timeout = 15_000 };
        var (host, port) = (channel.Text("host")!, channel.Int("port", 587));
        var tls = channel.Text("tls") switch
        {
            "none" => SecureSocketOptions.None,
            "starttls" => SecureSocketOptions.StartTls,
            "ssl" => SecureSocketOptions.SslOnConnect,
            _ => SecureSocketOptions.Auto,
        };
        try
        {
            // The egress policy opens the socket; MailKit owns it from there (TLS, SMTP).
            await smtp.ConnectAsync(await egress.ConnectSocketAsync(host, port, ct), host, port, tls, ct);
            if (channel.Text("username") is { } user)
                await smtp.AuthenticateAsync(user, channel.Text("password") ?? "", ct);
            await smtp.SendAsync(ChannelFormats.Mail(channel, message), ct);
            await smtp.DisconnectAsync(true, ct);
        }
        catch (Exception e) when (e is MailKit.ProtocolException or MailKit.CommandException or System.Net.Sockets.SocketException or IOException or AuthenticationException)
        {
            throw new ChannelException($"SMTP {host}:{port}: {e.Message}");
        }
    }

    // ------------------------------------------------------------------ SMS (Twilio-compatible)

    private async Task SmsAsync(ChannelConfig channel, NotificationMessage message, CancellationToken ct)
    {
        var sid = channel.Text("account_sid")!;
        var url = $"{channel.Text("base_url")!.TrimEnd('/')}/2010-04-01/Accounts/{Uri.EscapeDataString(sid)}/Messages.json";
        var body = ChannelFormats.SmsText(message);
        var client = http.CreateClient(ClientName);
        foreach (var to in channel.List("to"))
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, url)
            {
                Content = new FormUrlEncodedContent([new("To", to), new("From", channel.Text("from")!), new("Body", body)]),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{sid}:{channel.Text("auth_token")}")));
            using var response = await client.SendAsync(request, ct);
            if (!response.IsSuccessStatusCode)
                throw new ChannelException($"SMS API answered {(int)response.StatusCode} for {to}: {ChannelFormats.Limit(await response.Content.ReadAsStringAsync(ct), 300)}");
        }
    }

    // ------------------------------------------------------------------ signed webhook

    private async Task WebhookAsync(ChannelConfig channel, NotificationMessage message, long? deliveryId, CancellationToken ct)
    {
        var payload = message.Data.DeepClone().AsObject();
        if (deliveryId is not null)
            payload["delivery_id"] = deliveryId;
        var cloudEvents = channel.Text("format") == "cloudevents";
        var body = cloudEvents
            ? CloudEvents.Envelope(message.Kind, payload, options.Value.PublicUrl, clock.GetUtcNow()).ToJsonString()
            : payload.ToJsonString();
        var timestamp = clock.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        using var request = new HttpRequestMessage(HttpMethod.Post, channel.Text("url"))
        {
            Content = new StringContent(body, Encoding.UTF8, cloudEvents ? CloudEvents.ContentType : "application/json"),
        };
        request.Headers.Add("X-Timestamp", timestamp);
        request.Headers.Add("X-Signature", Signature(channel.Text("secret")!, timestamp, body));
        request.Headers.Add("X-Scheduler-Event", message.Kind);
        if (deliveryId is not null)
            request.Headers.Add("X-Scheduler-Delivery", deliveryId.Value.ToString(CultureInfo.InvariantCulture));
        await SendAsync(request, ct);
    }

    /// <summary><c>sha256=</c> and the hex HMAC-SHA256, keyed by the secret, of "{timestamp}.{body}".</summary>
    public static string Signature(string secret, string timestamp, string body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{timestamp}.{body}")));

    // ------------------------------------------------------------------ HTTP

    private async Task<string> PostJsonAsync(string url, JsonObject payload, AuthenticationHeaderValue? auth, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(payload.ToJsonString(), Encoding.UTF8, "application/json") };
        request.Headers.Authorization = auth;
        return await SendAsync(request, ct);
    }

    private async Task<string> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        using var response = await http.CreateClient(ClientName).SendAsync(request, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        if (!response.IsSuccessStatusCode)
            throw new ChannelException($"{Origin(request.RequestUri)} answered {(int)response.StatusCode}: {ChannelFormats.Limit(text, 300)}");
        return text;
    }

    /// <summary>scheme://host:port of a request, without the user information a URL may carry.</summary>
    private static string Origin(Uri? uri) => uri is null ? "" : $"{uri.Scheme}://{uri.Authority}";

}
