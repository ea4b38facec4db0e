using System.Security.Claims;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Scheduler.Infrastructure.Auth;

namespace Scheduler.Pages.Admin;

/// <summary>What every admin page shares: Mediator, the signed-in role, flash messages, and validation errors by field path.</summary>
internal abstract class AdminPageModel : PageModel
{
    private ISender? _sender;

    protected ISender Sender => _sender ??= HttpContext.RequestServices.GetRequiredService<ISender>();

    public string Role => User.FindFirstValue(ClaimTypes.Role) ?? "";

    public bool CanOperate => Allowed(Roles.Operator);

    public bool IsAdmin => Allowed(Roles.Admin);

    /// <summary>A message for the next page after a redirect (post/redirect/get).</summary>
    [TempData]
    public string? Flash { get; set; }

    [TempData]
    public string? FlashError { get; set; }

    public List<FieldError> Errors { get; } = [];

    protected bool Allowed(string role) => Roles.Rank(Role) >= Roles.Rank(role);

    /// <summary>Runs a command; a validation failure becomes <see cref="Errors"/> (keyed like the API's problem documents).</summary>
    protected async Task<bool> TrySendAsync(Func<Task> action)
    {
        try
        {
            await action();
            return true;
        }
        catch (ValidationException e)
        {
            Errors.AddRange(e.Errors.Select(f => new FieldError(string.IsNullOrEmpty(f.PropertyName) ? "$" : f.PropertyName, f.ErrorMessage)));
            return false;
        }
    }

    protected string ErrorText() => string.Join("; ", Errors.Select(e => $"{e.Path}: {e.Message}"));

    protected RedirectResult Back(string fallback)
    {
        var referer = Request.Headers.Referer.ToString();
        return Redirect(Uri.TryCreate(referer, UriKind.Absolute, out var uri) && uri.Authority == Request.Host.Value && uri.AbsolutePath.StartsWith("/admin", StringComparison.Ordinal)
            ? uri.PathAndQuery : fallback);
    }
}

internal sealed record FieldError(string Path, string Message);
