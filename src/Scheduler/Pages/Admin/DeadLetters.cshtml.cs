using Microsoft.AspNetCore.Mvc;
using Scheduler.Infrastructure.Http;
using Scheduler.Modules.Runs;

namespace Scheduler.Pages.Admin;

internal sealed class DeadLettersModel : AdminPageModel
{
    [BindProperty(SupportsGet = true)] public bool All { get; set; }
    [BindProperty(SupportsGet = true)] public string? Cursor { get; set; }

    public Page<ListDeadLetters.Item> Letters { get; private set; } = new([], null);

    public async Task<IActionResult> OnGetAsync()
    {
        if (!await TrySendAsync(async () => Letters = await Sender.Send(new ListDeadLetters.Query(50, Cursor, All), HttpContext.RequestAborted)))
        {
            FlashError = ErrorText();
            return Redirect("/admin/dead-letters");
        }
        return Page();
    }

    public async Task<IActionResult> OnPostRequeueAsync(long id)
    {
        if (!CanOperate)
            return Forbid();
        var result = await Sender.Send(new RequeueDeadLetter.Command(id), HttpContext.RequestAborted);
        switch (result.Result)
        {
            case RequeueDeadLetter.Result.Requeued:
                Flash = $"Requeued dead letter {id} in run {result.RunId}.";
                break;
            case RequeueDeadLetter.Result.NotFound:
                return NotFound();
            default:
                FlashError = result.Result == RequeueDeadLetter.Result.Busy ? "The task is running again already." : $"Dead letter {id} was already requeued.";
                break;
        }
        return Redirect("/admin/dead-letters");
    }
}
