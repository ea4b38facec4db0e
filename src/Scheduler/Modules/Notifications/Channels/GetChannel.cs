using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using static Scheduler.Modules.Notifications.Channels.ChannelResponses;

namespace Scheduler.Modules.Notifications.Channels;

/// <summary>One channel; never its secrets.</summary>
internal static class GetChannel
{
    public sealed record Query(string Name) : IQuery<Info?>;

    public sealed class Handler(ChannelStore store) : IQueryHandler<Query, Info?>
    {
        public async ValueTask<Info?> Handle(Query query, CancellationToken cancellationToken) =>
            await store.GetAsync(query.Name, cancellationToken) is { } row ? ToInfo(row) : null;
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder channels) => channels
        .MapGet("/{name}", async Task<Results<Ok<Info>, ProblemHttpResult>> (string name, ISender sender, CancellationToken ct) =>
            await sender.Send(new Query(name), ct) is { } info ? TypedResults.Ok(info) : Problems.NotFound($"No channel named '{name}'."))
        .WithName("GetChannel").WithSummary("One channel (never its secrets)")
        .RequireChannelRole(Roles.Admin);
}
