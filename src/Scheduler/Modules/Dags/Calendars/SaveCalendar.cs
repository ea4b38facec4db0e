using System.Text.Json;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Scheduler.Infrastructure.Auth;
using Scheduler.Infrastructure.Json;
using Scheduler.Infrastructure.Schedules;
using Scheduler.Infrastructure.Validation;
using Scheduler.Modules.Dags.Scheduling;
using static Scheduler.Modules.Dags.Calendars.CalendarResponses;

using Scheduler.Modules.Audit.Contracts;

namespace Scheduler.Modules.Dags.Calendars;

/// <summary>
/// Creates or replaces a calendar (PUT). The DAGs that exclude it get their next_run_at
/// recomputed in the same request, so a day no longer excluded is not passed over.
/// </summary>
internal static class SaveCalendar
{
    public const int MaxDates = 10_000;
    public const int MaxRanges = 1_000;

    public sealed record Command(string Name, CalendarDefinition? Definition) : ICommand<Result>;

    public sealed record Result(Info Calendar, bool Created);

    public sealed class Validator : AbstractValidator<Command>
    {
        public Validator()
        {
            RuleFor(c => c.Name).Matches(Names.Pattern()).WithMessage($"a calendar name must match {Names.PatternText}.").OverridePropertyName("name");
            RuleFor(c => c.Definition).NotNull().WithMessage("a calendar is required in the body.").OverridePropertyName("$");
            RuleFor(c => c).Custom((c, ctx) =>
            {
                if (c.Definition is not null)
                    Check(c.Definition, ctx);
            });
        }

        private static void Check(CalendarDefinition d, ValidationContext<Command> ctx)
        {
            foreach (var field in (IEnumerable<string>?)d.UnknownFields?.Keys ?? [])
                ctx.AddFailure(field, $"unknown field '{field}'.");
            if (d.Timezone is not null && !TimeZones.TryFind(d.Timezone, out _))
                ctx.AddFailure("timezone", $"'{d.Timezone}' is not an IANA time zone (e.g. 'UTC', 'Europe/Berlin').");
            if (d.Description is { Length: > 1000 })
                ctx.AddFailure("description", "at most 1000 characters.");
            if (d.Holidays is not null && !Holidays.Countries.ContainsKey(d.Holidays.ToUpperInvariant()))
                ctx.AddFailure("holidays", $"'{d.Holidays}' is not a supported country code; one of {string.Join(", ", Holidays.Countries.Keys.Order())}.");
            if (d.ExcludeDates is { Count: > MaxDates })
                ctx.AddFailure("exclude_dates", $"at most {MaxDates} dates.");
            for (var i = 0; i < (d.ExcludeDates?.Count ?? 0) && i < MaxDates; i++)
                if (CalendarDefinition.ParseDay(d.ExcludeDates![i]) is null)
                    ctx.AddFailure($"exclude_dates[{i}]", $"'{d.ExcludeDates[i]}' is not a date written YYYY-MM-DD.");
            if (d.ExcludeRanges is { Count: > MaxRanges })
                ctx.AddFailure("exclude_ranges", $"at most {MaxRanges} ranges.");
            for (var i = 0; i < (d.ExcludeRanges?.Count ?? 0) && i < MaxRanges; i++)
            {
                var range = d.ExcludeRanges![i];
                var path = $"exclude_ranges[{i}]";
                if (range is null)
                {
                    ctx.AddFailure(path, "a range is an object {\"from\", \"to\"} of dates written YYYY-MM-DD.");
                    continue;
                }
                foreach (var field in (IEnumerable<string>?)range.UnknownFields?.Keys ?? [])
                    ctx.AddFailure($"{path}.{field}", $"unknown field '{field}'.");
                var from = CalendarDefinition.ParseDay(range.From);
                var to = CalendarDefinition.ParseDay(range.To);
                if (from is null)
                    ctx.AddFailure(path + ".from", "'from' must be a date written YYYY-MM-DD.");
                if (to is null)
                    ctx.AddFailure(path + ".to", "'to' must be a date written YYYY-MM-DD.");
                if (from is not null && to is not null && to < from)
                    ctx.AddFailure(path + ".to", "'to' must not be before 'from' (both days are excluded).");
            }
        }
    }

    public sealed class Handler(DagsDbContext db, CalendarCache cache, TimeProvider clock, AuditTrail audit) : ICommandHandler<Command, Result>
    {
        public async ValueTask<Result> Handle(Command command, CancellationToken cancellationToken)
        {
            var d = command.Definition!;
            d.UnknownFields = null;
            d.Holidays = d.Holidays?.ToUpperInvariant();
            d.Timezone ??= "UTC";
            var utc = clock.GetUtcNow().UtcTicks;
            var now = new DateTimeOffset(utc - utc % 10, TimeSpan.Zero);
            var json = JsonSerializer.Serialize(d, JsonConventions.Options);
            await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
            var row = await db.Calendars.SingleOrDefaultAsync(c => c.Name == command.Name, cancellationToken);
            var created = row is null;
            if (row is null)
            {
                db.Calendars.Add(row = new StoredCalendar { Name = command.Name, Definition = json, CreatedAt = now, UpdatedAt = now });
                try
                {
                    await db.SaveChangesAsync(cancellationToken);
                }
                catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
                {
                    // A concurrent PUT created it first: replace that one instead.
                    await tx.RollbackAsync(cancellationToken);
                    db.ChangeTracker.Clear();
                    return await Handle(command, cancellationToken);
                }
            }
            else
            {
                // One statement, so the new revision (what every replica's cache compares) and the definition change together.
                await db.Database.ExecuteSqlAsync($"update dags.calendars set definition = {json}::jsonb, updated_at = {now}, revision = nextval('dags.calendar_revisions') where id = {row.Id}", cancellationToken);
                row.Definition = json;
                row.UpdatedAt = now;
            }
            await audit.WriteAsync(db, created ? "calendar.create" : "calendar.update", AuditTargets.Calendar(command.Name), new()
            {
                ["timezone"] = d.Timezone,
                ["holidays"] = d.Holidays,
                ["exclude_dates"] = d.ExcludeDates?.Count ?? 0,
                ["exclude_ranges"] = d.ExcludeRanges?.Count ?? 0,
            }, cancellationToken);
            await tx.CommitAsync(cancellationToken);
            await DagNextRuns.RefreshAsync(db, command.Name, await cache.GetAsync(cancellationToken), clock.GetUtcNow(), cancellationToken);
            return new Result(ToInfo(row), created);
        }
    }

    public static RouteHandlerBuilder Map(RouteGroupBuilder calendars) => calendars
        .MapPut("/{name}", async Task<Results<Created<Info>, Ok<Info>>> (string name, CalendarDefinition definition, ISender sender, CancellationToken ct) =>
        {
            var result = await sender.Send(new Command(name, definition), ct);
            return result.Created ? TypedResults.Created($"/api/v1/calendars/{name}", result.Calendar) : TypedResults.Ok(result.Calendar);
        })
        .WithName("UpsertCalendar")
        .WithSummary("Create or replace a calendar (excluded dates, ranges, a country's public holidays)")
        .RequireAuthorization(Policies.Admin);
}
