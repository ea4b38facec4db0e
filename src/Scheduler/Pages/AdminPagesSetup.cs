using Scheduler.Infrastructure.Auth;

namespace Scheduler.Pages;

/// <summary>
/// The admin pages: server-rendered Razor Pages under /admin, signed in with the admin
/// cookie (see <see cref="AdminCookie"/>). Every page needs a viewer (globally or in a team); actions check the role
/// in their handler (Razor Pages cannot authorize single handlers) and answer 403. Razor
/// Pages validate the antiforgery token on every POST.
/// </summary>
internal static class AdminPagesSetup
{
    /// <summary>Pages with objects of no team: a global role is needed (403 for team roles only), and the navigation leaves them out.</summary>
    public static readonly IReadOnlyList<string> GlobalOnlyPages = ["/Admin/Users", "/Admin/ApiKeys", "/Admin/Audit", "/Admin/Workers", "/Admin/DeadLetters", "/Admin/Assets"];

    public static IServiceCollection AddAdminPages(this IServiceCollection services)
    {
        services.AddRazorPages(options =>
        {
            // A team role anywhere opens the pages (TeamAccess.MayTry); each page shows that user's teams only.
            options.Conventions.AuthorizeFolder("/Admin", Policies.TeamViewer);
            options.Conventions.AllowAnonymousToPage("/Admin/Login");
            foreach (var page in GlobalOnlyPages)
                options.Conventions.AuthorizePage(page, Policies.Viewer);
            foreach (var page in new[] { "/Admin/Users", "/Admin/ApiKeys", "/Admin/Audit" })
                options.Conventions.AuthorizePage(page, Policies.Admin);
            foreach (var page in new[] { "/Admin/Connections", "/Admin/Dags/Edit" })
                options.Conventions.AuthorizePage(page, Policies.TeamAdmin);
            options.Conventions.AddPageRoute("/Admin/Dags/Edit", "/admin/dags/new");
        });
        services.AddAntiforgery(options =>
        {
            options.Cookie.Name = "scheduler_antiforgery";
            options.Cookie.Path = AdminCookie.PathPrefix;
            options.Cookie.SameSite = SameSiteMode.Strict;
            options.FormFieldName = "__RequestVerificationToken";
        });
        // The antiforgery cookie keeps SameAsRequest: with Always, antiforgery refuses every
        // plain-http request outright, and the token is worthless without the signed-in cookie
        // (Secure outside Development) it is bound to.
        return services;
    }

    public static void MapAdminPages(this WebApplication app)
    {
        app.MapRazorPages();
    }
}
