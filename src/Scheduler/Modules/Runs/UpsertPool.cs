using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.OpenApi;
using Scheduler.Infrastructure.Validation;
using static Scheduler.Modules.Runs.PoolResponses;

namespace Scheduler.Modules.Runs;

/// <summary>Creates or changes a pool; null slots: no cap (the 'default' pool never has one).</summary>
internal static class UpsertPool
{
    [SchemaName("Runs.Pools.Request")]
    public sealed record Request(int? Slots, string? Description);

    public sealed record Command(string Name, int? Slots, string? Description) : ICommand<Item>;

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator()
        {
            RuleFor(u => u.Name).Matches(Names.Pattern()).WithMessage("'name' must match ^[A-Za-z0-9_.-]{1,200}$.");
            RuleFor(u => u.Slots).InclusiveBetween(0, 100_000);
            RuleFor(u => u.Slots).Null().WithMessage("the 'default' pool has no cap.").When(u => u.Name == "default");
            RuleFor(u => u.Description).MaximumLength(1000);
        }
    }

    public sealed class Handler(RunsDbContext db) : ICommandHandler<Command, Item>
    {
        public async ValueTask<Item> Handle(Command command, CancellationToken cancellationToken)
        {
            // One statement, so concurrent PUTs of a new pool all succeed (the last one wins)
            // instead of racing a read against the primary key.
            await db.Database.ExecuteSqlInterpolatedAsync($"""
                insert into runs.pools (name, slots, description) values ({command.Name}, {command.Slots}, {command.Description})
                on conflict (name) do update set slots = excluded.slots, description = excluded.description
                """, cancellationToken);
            return (await ListAsync(db, cancellationToken)).Single(p => p.Name == command.Name);
        }
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder api) => api
        .MapPut("/pools/{name}", async Task<Ok<Item>> (string name, Request request, ISender sender, CancellationToken ct) =>
            TypedResults.Ok(await sender.Send(new Command(name, request.Slots, request.Description), ct)))
        .WithName("UpsertPool").WithTags("Pools").WithSummary("Create or change a pool (slots null: no cap)")
        .RequireAuthorization(Policies.Admin);
}
