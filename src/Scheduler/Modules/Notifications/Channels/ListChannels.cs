using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using Scheduler.Infrastructure.Validation;
using static Scheduler.Modules.Notifications.Channels.ChannelResponses;

namespace Scheduler.Modules.Notifications.Channels;

/// <summary>Channels by name, a page at a time; never their secrets.</summary>
internal static class ListChannels
{
    public sealed record Query(int? Limit, string? Cursor, IReadOnlyList<string>? Visible = null) : IQuery<Page<Info>>;

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator()
        {
            RuleFor(q => q.Limit).ValidLimit();
            RuleFor(q => q.Cursor).ValidCursor();
        }
    }

    public sealed class Handler(ChannelStore store) : IQueryHandler<Query, Page<Info>>
    {
        public async ValueTask<Page<Info>> Handle(Query query, CancellationToken cancellationToken)
        {
            var limit = query.Limit ?? Cursor.DefaultLimit;
            Cursor.TryDecode(query.Cursor, out var after);
            var rows = await store.ListAsync(after, limit + 1, query.Visible, cancellationToken);
            return Cursor.ToPage(rows.Select(ToInfo).ToList(), limit, c => c.Name);
        }
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder channels) => channels
        .MapGet("/", async Task<Ok<Page<Info>>> (ISender sender, HttpContext http, CancellationToken ct, int? limit, string? cursor) =>
            TypedResults.Ok(await sender.Send(new Query(limit, cursor, TeamAccess.Of(http.User).VisibleTeams(Roles.Admin)), ct)))
        .WithName("ListChannels").WithSummary("List channels (never their secrets); a team admin sees its team's")
        .RequireAuthorization(Policies.TeamAdmin);
}
