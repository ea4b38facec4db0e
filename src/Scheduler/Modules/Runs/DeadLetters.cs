using System.Globalization;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using Scheduler.Modules.Runs.Engine;

namespace Scheduler.Modules.Runs;

/// <summary>Tasks that used up their retries, and requeueing one for a fresh attempt.</summary>
internal static class DeadLetters
{
    public sealed record Item(long Id, long RunId, string DagName, string TaskId, int Attempts, string? Error, DateTimeOffset CreatedAt, DateTimeOffset? RequeuedAt);

    public sealed record Query(int? Limit, string? Cursor, bool IncludeRequeued) : IQuery<Page<Item>>;

    public sealed record Requeue(long Id) : ICommand<RequeueOutcome>;

    public sealed record RequeueOutcome(RequeueResult Result, long RunId = 0);

    public enum RequeueResult { NotFound, AlreadyRequeued, Busy, Requeued }

    public sealed class Validator : AbstractValidator<Query>
    {
        public Validator()
        {
            RuleFor(q => q.Limit).ValidLimit();
            RuleFor(q => q.Cursor).Must(c => Cursor.TryDecode(c, out var k) && (k is null || long.TryParse(k, out _))).WithMessage("'cursor' is not a cursor this server issued.");
        }
    }

    public sealed class Handler(RunsDbContext db, RunOperations operations, TimeProvider clock) : IQueryHandler<Query, Page<Item>>, ICommandHandler<Requeue, RequeueOutcome>
    {
        public async ValueTask<Page<Item>> Handle(Query query, CancellationToken cancellationToken)
        {
            var limit = query.Limit ?? Cursor.DefaultLimit;
            Cursor.TryDecode(query.Cursor, out var key);
            var before = key is null ? long.MaxValue : long.Parse(key, CultureInfo.InvariantCulture);
            var items = db.DeadLetters.AsNoTracking().Where(d => d.Id < before);
            if (!query.IncludeRequeued)
                items = items.Where(d => d.RequeuedAt == null);
            var page = await items.OrderByDescending(d => d.Id).Take(limit + 1)
                .Select(d => new Item(d.Id, d.RunId, d.DagName, d.TaskId, d.Attempts, d.Error, d.CreatedAt, d.RequeuedAt))
                .ToListAsync(cancellationToken);
            return Cursor.ToPage(page, limit, d => d.Id.ToString(CultureInfo.InvariantCulture));
        }

        /// <summary>Clears the task and its downstream in its run: one fresh attempt (plus its retries).</summary>
        public async ValueTask<RequeueOutcome> Handle(Requeue command, CancellationToken cancellationToken)
        {
            var letter = await db.DeadLetters.SingleOrDefaultAsync(d => d.Id == command.Id, cancellationToken);
            if (letter is null)
                return new(RequeueResult.NotFound);
            if (letter.RequeuedAt is not null)
                return new(RequeueResult.AlreadyRequeued);
            var cleared = await operations.ClearAsync(letter.RunId, letter.TaskId, downstream: true, cancellationToken);
            if (cleared?.Cleared is null)
                return new(cleared is null ? RequeueResult.NotFound : RequeueResult.Busy);
            letter.RequeuedAt = clock.GetUtcNow();
            await db.SaveChangesAsync(cancellationToken);
            return new(RequeueResult.Requeued, letter.RunId);
        }
    }

    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/dead-letters", async Task<Ok<Page<Item>>> (ISender sender, CancellationToken ct, int? limit, string? cursor, bool? includeRequeued) =>
                TypedResults.Ok(await sender.Send(new Query(limit, cursor, includeRequeued ?? false), ct)))
            .WithName("ListDeadLetters").WithTags("Runs")
            .WithSummary("Tasks that used up their retries, newest first")
            .RequireAuthorization(Policies.Viewer);
        api.MapPost("/dead-letters/{id:long}/requeue", async Task<Results<Ok<RunDetails>, ProblemHttpResult>> (long id, ISender sender, CancellationToken ct) =>
            {
                var result = await sender.Send(new Requeue(id), ct);
                return result.Result switch
                {
                    RequeueResult.NotFound => Problems.NotFound($"No dead letter {id}."),
                    RequeueResult.AlreadyRequeued => Problems.Conflict($"Dead letter {id} was already requeued."),
                    RequeueResult.Busy => Problems.Conflict("The task is running again already."),
                    _ => TypedResults.Ok((await sender.Send(new GetRun.Query(result.RunId), ct))!),
                };
            })
            .WithName("RequeueDeadLetter").WithTags("Runs")
            .WithSummary("Start a fresh attempt of a dead-lettered task (and rerun its downstream)")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .RequireAuthorization(Policies.Operator);
    }
}
