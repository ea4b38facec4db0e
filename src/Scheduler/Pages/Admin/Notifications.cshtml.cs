using Scheduler.Infrastructure.Auth;
using Microsoft.AspNetCore.Mvc;
using Scheduler.Infrastructure.Http;
using Scheduler.Modules.Notifications.Channels;
using Scheduler.Modules.Notifications.Delivery;

namespace Scheduler.Pages.Admin;

/// <summary>Delivery history with filters and retry; channels (admins) with a test send.</summary>
internal sealed class NotificationsModel : AdminPageModel
{
    [BindProperty(SupportsGet = true)] public string? Status { get; set; }
    [BindProperty(SupportsGet = true)] public string? Channel { get; set; }
    [BindProperty(SupportsGet = true)] public string? Dag { get; set; }
    [BindProperty(SupportsGet = true)] public string? Cursor { get; set; }

    public Page<Deliveries.Info> Deliveries { get; private set; } = new([], null);
    public Page<ChannelResponses.Info> Channels { get; private set; } = new([], null);

    public string Query(string? cursor = null) =>
        string.Join('&', new[] { ("status", Status), ("channel", Channel), ("dag", Dag), ("cursor", cursor) }
            .Where(p => !string.IsNullOrEmpty(p.Item2)).Select(p => $"{p.Item1}={Uri.EscapeDataString(p.Item2!)}"));

    public async Task<IActionResult> OnGetAsync()
    {
        var status = Status is "pending" or "delivered" or "failed" ? Status : null;
        // The delivery history is global (as GET /notifications/deliveries): team roles alone see their teams' channels only.
        if (IsGlobal && !await TrySendAsync(async () => Deliveries = await Sender.Send(
                new Deliveries.List(50, Cursor, status, Blank(Channel), Blank(Dag), null), HttpContext.RequestAborted)))
        {
            FlashError = ErrorText();
            return Redirect("/admin/notifications");
        }
        if (TeamAccess.Of(User).MayTry(Roles.Admin))
            Channels = await Sender.Send(new ListChannels.Query(200, null, VisibleTeams(Roles.Admin)), HttpContext.RequestAborted);
        return Page();
    }

    public async Task<IActionResult> OnPostRetryAsync(long id)
    {
        if (!CanOperate)
            return Forbid();
        var delivery = await Sender.Send(new Deliveries.Retry(id), HttpContext.RequestAborted);
        if (delivery is null)
            return NotFound();
        Flash = delivery.Status == "pending" ? $"Delivery {id} will be sent again." : $"Delivery {id} is {delivery.Status}; nothing to retry.";
        return Back("/admin/notifications");
    }

    public async Task<IActionResult> OnPostTestAsync(string name)
    {
        if (!MayAdminSomewhere)
            return Forbid();
        var channel = await Sender.Send(new GetChannel.Query(name ?? ""), HttpContext.RequestAborted);
        if (Refusal(channel is not null, channel?.Team) is { } refused)
            return refused;
        var result = await Sender.Send(new TestChannel.Command(name!), HttpContext.RequestAborted);
        if (result is null)
            return NotFound();
        if (result.Delivered)
            Flash = $"Test message sent to '{name}' ({Ui.N(result.DurationMs)} ms).";
        else
            FlashError = $"The test message to '{name}' failed: {result.Error}";
        return Redirect("/admin/notifications");
    }
}
