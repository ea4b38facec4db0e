using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Validation;

namespace Scheduler.Modules.Runs;

/// <summary>
/// Named pools cap concurrent tasks across all replicas (e.g. 4 slots for tasks that hit a
/// fragile database). A task naming a pool that does not exist runs uncapped.
/// </summary>
internal static class Pools
{
    public sealed record Item(string Name, int? Slots, string? Description, int Running, int Queued);

    public sealed record Request(int? Slots, string? Description);

    public sealed record List : IQuery<IReadOnlyList<Item>>;

    public sealed record Upsert(string Name, int? Slots, string? Description) : ICommand<Item>;

    public sealed class Validator : AbstractValidator<Upsert>
    {
        public Validator()
        {
            RuleFor(u => u.Name).Matches(Names.Pattern()).WithMessage("'name' must match ^[A-Za-z0-9_.-]{1,200}$.");
            RuleFor(u => u.Slots).InclusiveBetween(0, 100_000);
            RuleFor(u => u.Slots).Null().WithMessage("the 'default' pool has no cap.").When(u => u.Name == "default");
            RuleFor(u => u.Description).MaximumLength(1000);
        }
    }

    public sealed class Handler(RunsDbContext db) : IQueryHandler<List, IReadOnlyList<Item>>, ICommandHandler<Upsert, Item>
    {
        public async ValueTask<IReadOnlyList<Item>> Handle(List query, CancellationToken cancellationToken)
        {
            var usage = await db.TaskInstances.AsNoTracking()
                .Where(t => t.State == "running" || t.State == "queued")
                .GroupBy(t => new { t.Pool, t.State })
                .Select(g => new { g.Key.Pool, g.Key.State, Count = g.Count() })
                .ToListAsync(cancellationToken);
            var pools = await db.Pools.AsNoTracking().OrderBy(p => p.Name).ToListAsync(cancellationToken);
            return pools.Select(p => new Item(p.Name, p.Slots, p.Description,
                usage.Where(u => u.Pool == p.Name && u.State == "running").Sum(u => u.Count),
                usage.Where(u => u.Pool == p.Name && u.State == "queued").Sum(u => u.Count))).ToList();
        }

        public async ValueTask<Item> Handle(Upsert command, CancellationToken cancellationToken)
        {
            var pool = await db.Pools.SingleOrDefaultAsync(p => p.Name == command.Name, cancellationToken);
            if (pool is null)
                db.Pools.Add(pool = new Pool { Name = command.Name });
            pool.Slots = command.Slots;
            pool.Description = command.Description;
            await db.SaveChangesAsync(cancellationToken);
            return (await Handle(new List(), cancellationToken)).Single(p => p.Name == command.Name);
        }
    }

    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/pools", async Task<Ok<IReadOnlyList<Item>>> (ISender sender, CancellationToken ct) => TypedResults.Ok(await sender.Send(new List(), ct)))
            .WithName("ListPools").WithTags("Pools").WithSummary("Pools with their slots, running and queued tasks")
            .RequireAuthorization(Policies.Viewer);
        api.MapPut("/pools/{name}", async Task<Ok<Item>> (string name, Request request, ISender sender, CancellationToken ct) =>
                TypedResults.Ok(await sender.Send(new Upsert(name, request.Slots, request.Description), ct)))
            .WithName("UpsertPool").WithTags("Pools").WithSummary("Create or change a pool (slots null: no cap)")
            .RequireAuthorization(Policies.Admin);
    }
}
