using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc;
using Scheduler.Infrastructure.Http;
using Scheduler.Infrastructure.Text;
using Scheduler.Modules.Workers.Variables;

namespace Scheduler.Pages.Admin;

/// <summary>
/// Variables as templates read them (<c>vars.name</c>): everyone signed in sees the list (team
/// roles alone: their teams' variables; a secret's value never); admins of a variable's team
/// (or global admins) save and delete it, the same rules and audit entries as the API.
/// </summary>
internal sealed class VariablesModel : AdminPageModel
{
    [BindProperty(SupportsGet = true)] public string? Cursor { get; set; }

    public Page<VariableResponses.Info> Variables { get; private set; } = new([], null);

    /// <summary>What the admin typed, shown again when it was refused.</summary>
    public (string? Name, string? Value, bool Secret, string? Description, string? Team) Entered { get; private set; }

    public async Task OnGetAsync() => await Load();

    private async Task Load()
    {
        await LoadAdminTeamsAsync();
        if (!await TrySendAsync(async () => Variables = await Sender.Send(new ReadVariables.ListQuery(50, Cursor, VisibleTeams()), HttpContext.RequestAborted)))
            Cursor = null;
    }

    public async Task<IActionResult> OnPostSaveAsync(string? name, string? value, bool secret, string? description, string? team)
    {
        if (!MayAdminSomewhere)
            return Forbid();
        team = Blank(team);
        Entered = (name, value, secret, description, team);
        var current = string.IsNullOrEmpty(name) ? null : await Sender.Send(new ReadVariables.GetQuery(name), HttpContext.RequestAborted);
        if (MayWrite("variable", current is not null, current?.Team, team) && Parse(value) is { } node
            && await TrySendAsync(() => Sender.Send(new SaveVariable.Command(name ?? "", node, secret, Blank(description), team), HttpContext.RequestAborted).AsTask()))
        {
            Flash = $"Saved variable {name}.";
            return Redirect("/admin/variables");
        }
        Response.StatusCode = StatusCodes.Status400BadRequest;
        await Load();
        return Page();
    }

    /// <summary>The value as JSON; text that is not JSON is taken as a string (as most values are).</summary>
    private JsonNode? Parse(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            Errors.Add(new FieldError("value", "'value' is required (any JSON value but null)."));
            return null;
        }
        if (JsonText.FirstRefused(value) is { } refused)
        {
            Errors.Add(new FieldError("value", $"{refused.Path}: {refused.Message}"));
            return null;
        }
        try
        {
            return JsonNode.Parse(value) ?? JsonValue.Create(value);
        }
        catch (JsonException)
        {
            return JsonValue.Create(value);
        }
    }

    public async Task<IActionResult> OnPostDeleteAsync(string name)
    {
        if (!MayAdminSomewhere)
            return Forbid();
        var current = await Sender.Send(new ReadVariables.GetQuery(name ?? ""), HttpContext.RequestAborted);
        if (Refusal(current is not null, current?.Team) is { } refused)
            return refused;
        Flash = await Sender.Send(new DeleteVariable.Command(name!), HttpContext.RequestAborted) ? $"Deleted variable {name}." : null;
        return Redirect("/admin/variables");
    }
}
