using FluentValidation;
using FluentValidation.Results;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Http;
using Scheduler.Modules.Dags.Contracts;

namespace Scheduler.Modules.Runs.Backfills;

/// <summary>
/// <c>POST /dags/{name}/backfills</c>: runs for the schedule's logical dates in [from, to]
/// (calendars applied), chosen by <c>reprocess</c>. A dry run answers the dates and creates
/// nothing; the real call records the backfill, creates its runs in bulk and starts at most
/// <c>max_active_runs</c> of them at a time, beside the DAG's scheduled runs.
/// </summary>
internal static class StartBackfill
{
    public const int MaxDates = 50_000;
    public static readonly string[] Reprocess = ["missing", "failed", "all"];

    public sealed record Request(DateTimeOffset? From, DateTimeOffset? To, string? Reprocess, int? MaxActiveRuns, bool? DryRun);

    public sealed record Command(string DagName, DateTimeOffset? From, DateTimeOffset? To, string? Reprocess, int? MaxActiveRuns, bool DryRun, string? Actor) : ICommand<Result>;

    public sealed record DryRun(IReadOnlyList<DateTimeOffset> LogicalDates, int Count);

    public sealed record Result(bool DagFound, DryRun? Dates, BackfillInfo? Backfill);

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator()
        {
            RuleFor(c => c.From).NotNull().WithMessage("'from' (an instant) is required.");
            RuleFor(c => c.To).NotNull().WithMessage("'to' (an instant) is required.");
            RuleFor(c => c.To).GreaterThanOrEqualTo(c => c.From).WithMessage("'to' must not be before 'from'.").When(c => c.From is not null && c.To is not null);
            RuleFor(c => c.Reprocess).Must(r => r is null || Reprocess.Contains(r)).WithMessage($"'reprocess' is one of {string.Join(", ", Reprocess)}.");
            RuleFor(c => c.MaxActiveRuns).InclusiveBetween(1, 10_000);
        }
    }

    public sealed class Handler(ISender sender, BackfillRuns backfills, NpgsqlDataSource dataSource, TimeProvider clock) : ICommandHandler<Command, Result>
    {
        public async ValueTask<Result> Handle(Command command, CancellationToken cancellationToken)
        {
            var from = command.From!.Value.ToUniversalTime();
            var to = command.To!.Value.ToUniversalTime();
            var plan = await sender.Send(new GetDagPlan(command.DagName), cancellationToken);
            var dates = await sender.Send(new GetScheduleDates(command.DagName, from, to, MaxDates), cancellationToken);
            if (plan is null || dates is null)
                return new Result(false, null, null);
            if (!dates.HasSchedule)
                throw new ValidationException([new ValidationFailure("$", $"DAG '{command.DagName}' has no schedule (cron or interval): there are no logical dates to backfill.")]);
            if (dates.LogicalDates.Count > MaxDates)
                throw new ValidationException([new ValidationFailure("to", $"the range holds more than {MaxDates} logical dates; split it into several backfills.")]);
            var reprocess = command.Reprocess ?? "missing";
            var selected = await backfills.SelectAsync(dates.DagId, dates.LogicalDates, reprocess, cancellationToken);
            if (command.DryRun)
                return new Result(true, new DryRun(selected.Select(s => s.Date).ToList(), selected.Count), null);

            long id;
            await using (var cmd = dataSource.CreateCommand("""
                insert into runs.backfills (dag_id, dag_name, from_date, to_date, reprocess, max_active_runs, state, total, created, created_by, created_at)
                values (@d, @n, @f, @t, @r, @m, 'queued', @total, 0, @by, @at) returning id
                """))
            {
                cmd.Parameters.AddWithValue("d", plan.DagId);
                cmd.Parameters.AddWithValue("n", plan.Name);
                cmd.Parameters.AddWithValue("f", from);
                cmd.Parameters.AddWithValue("t", to);
                cmd.Parameters.AddWithValue("r", reprocess);
                cmd.Parameters.AddWithValue("m", command.MaxActiveRuns ?? 10);
                cmd.Parameters.AddWithValue("total", selected.Count);
                cmd.Parameters.Add(new NpgsqlParameter<string?>("by", command.Actor));
                cmd.Parameters.AddWithValue("at", clock.GetUtcNow());
                id = (long)(await cmd.ExecuteScalarAsync(cancellationToken))!;
            }
            // Past this point the work is the backfill's, not the request's: a client that hangs up does not leave it half made.
            await backfills.CreateAsync(id, plan, selected, command.Actor, CancellationToken.None);
            var info = (await BackfillReads.ReadAsync(dataSource, id, null, null, 1, cancellationToken)).Single();
            return new Result(true, null, info);
        }
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder api) => api
        .MapPost("/dags/{name}/backfills", async Task<Results<Created<BackfillInfo>, Ok<DryRun>, ProblemHttpResult>> (string name, Request request, ISender sender, HttpContext http, CancellationToken ct) =>
        {
            var result = await sender.Send(new Command(name, request.From, request.To, request.Reprocess, request.MaxActiveRuns, request.DryRun ?? false, http.User.Identity?.Name), ct);
            if (!result.DagFound)
                return Problems.NotFound($"No DAG named '{name}'.");
            if (result.Dates is { } dates)
                return TypedResults.Ok(dates);
            return TypedResults.Created($"/api/v1/backfills/{result.Backfill!.Id}", result.Backfill);
        })
        .WithName("StartBackfill")
        .WithTags("Backfills")
        .WithSummary("Backfill a DAG over [from, to]: dry_run lists the logical dates, otherwise 201 with the backfill")
        .ProducesProblem(StatusCodes.Status404NotFound)
        .RequireDagRole(Roles.Operator);
}
