using Mediator;

namespace Scheduler.Modules.Dags.Contracts;

/// <summary>
/// The logical dates a DAG's schedule has in [<paramref name="From"/>, <paramref name="To"/>]
/// (inclusive, inside its start/end window), its calendars applied: what a backfill runs.
/// At most <paramref name="Max"/> + 1, so the caller can tell a range too long. Null when no
/// DAG has this name.
/// </summary>
public sealed record GetScheduleDates(string DagName, DateTimeOffset From, DateTimeOffset To, int Max) : IQuery<ScheduleDates?>;

/// <param name="HasSchedule">False for a DAG without cron or interval: it has no dates to backfill.</param>
public sealed record ScheduleDates(long DagId, bool HasSchedule, IReadOnlyList<DateTimeOffset> LogicalDates);
