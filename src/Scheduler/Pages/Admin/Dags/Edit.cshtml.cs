using Scheduler.Infrastructure.Auth;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Scheduler.Infrastructure.Http;
using Scheduler.Infrastructure.Json;
using Scheduler.Infrastructure.Text;
using Scheduler.Modules.Dags;
using Scheduler.Modules.Dags.Definitions;

namespace Scheduler.Pages.Admin.Dags;

/// <summary>
/// Create (at /admin/dags/new) or edit a DAG as JSON. The same parsing and validation as the
/// REST API: malformed JSON is reported at its path, validator errors at theirs. The same team
/// rules too: a team's admin edits that team's DAGs and creates DAGs in it ("team"), another
/// team's DAG is 404, a DAG without a team needs a global admin.
/// </summary>
internal sealed class EditDagModel : AdminPageModel
{
    public const string Sample = """
        {
          "name": "my_dag",
          "description": "What this DAG does",
          "cron": "0 9 * * *",
          "timezone": "UTC",
          "tags": ["example"],
          "tasks": [
            { "id": "extract", "type": "shell", "command": "echo extracting" },
            { "id": "load", "depends_on": ["extract"] }
          ]
        }
        """;

    [BindProperty(SupportsGet = true)] public string? Name { get; set; }
    [BindProperty] public string? Definition { get; set; }

    public bool IsNew => string.IsNullOrEmpty(Name);

    public async Task<IActionResult> OnGetAsync()
    {
        if (IsNew)
        {
            // A team's admin starts from a DAG of their (first) team: one without a team is not theirs to create.
            Definition = MayAdmin(null) ? Sample : Sample.Replace("\"tags\"", $"\"team\": \"{TeamAccess.Of(User).TeamRoles.Where(r => r.Value == Roles.Admin).Select(r => r.Key).Order(StringComparer.Ordinal).FirstOrDefault()}\",\n  \"tags\"");
            return Page();
        }
        var dag = await Sender.Send(new GetDag.Query(Name!), HttpContext.RequestAborted);
        if (Refusal(dag is not null, dag?.Team) is { } refusal)
            return refusal;
        Definition = JsonSerializer.Serialize(dag!.Definition, DagDetailModel.Indented);
        return Page();
    }

    public async Task<IActionResult> OnPostAsync()
    {
        if (!IsNew)
        {
            var current = await Sender.Send(new GetDag.Query(Name!), HttpContext.RequestAborted);
            if (current is not null && Refusal(true, current.Team) is { } refusal)
                return refusal;
        }
        DagDefinition? definition = null;
        if (JsonText.FirstRefused(Definition ?? "") is { } refused)
        {
            Errors.Add(new FieldError(refused.Path, refused.Message));
            return Invalid();
        }
        try
        {
            definition = JsonSerializer.Deserialize<DagDefinition>(Definition ?? "", JsonConventions.Options);
        }
        catch (JsonException e)
        {
            Errors.Add(new FieldError(JsonPaths.ToFieldPath(e.Path) ?? "$", JsonPaths.Describe(e)));
        }
        if (definition is null)
        {
            if (Errors.Count == 0)
                Errors.Add(new FieldError("$", "the definition must be a JSON object."));
            return Invalid();
        }
        if (!MayWrite("DAG", false, null, definition.Team))
            return Invalid();
        var actor = User.Identity?.Name;
        string? saved = null;
        var ok = await TrySendAsync(async () =>
        {
            if (IsNew)
            {
                var created = await Sender.Send(new CreateDag.Command(definition, actor), HttpContext.RequestAborted);
                if (created is null)
                    Errors.Add(new FieldError("name", $"a DAG named '{definition.Name}' already exists."));
                saved = created?.Name;
            }
            else
            {
                definition.Name ??= Name;
                var result = await Sender.Send(new UpsertDag.Command(Name!, definition, actor), HttpContext.RequestAborted);
                if (result.OwnedBy is { } owner)
                {
                    Errors.Add(new FieldError("$", $"this DAG is owned by the git repository '{owner}'; change its file there."));
                    return;
                }
                saved = result.Dag.Name;
                Flash = result.Changed ? $"Saved {saved} as version {result.Dag.Version}." : "No change: the definition is identical.";
            }
        });
        if (!ok || saved is null)
            return Invalid();
        Flash ??= $"Created {saved}.";
        return Redirect($"/admin/dags/{Uri.EscapeDataString(saved)}");
    }

    private Microsoft.AspNetCore.Mvc.RazorPages.PageResult Invalid()
    {
        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }
}
