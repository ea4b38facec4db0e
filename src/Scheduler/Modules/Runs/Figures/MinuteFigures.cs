using Mediator;
using Npgsql;

namespace Scheduler.Modules.Runs.Figures;

/// <summary>
/// The cluster's throughput and queue depth per minute, for the dashboard. Each replica counts
/// the attempts its completions recorded (where the engine commits them, the same place the
/// finished-task metrics count) and, once a minute, adds its count to the minute's row with a
/// queue depth sample: one statement a minute per replica, also when idle.
/// </summary>
internal sealed class MinuteFigures(NpgsqlDataSource dataSource, TimeProvider time, ILogger<MinuteFigures> logger) : BackgroundService
{
    private static readonly TimeSpan Keep = TimeSpan.FromDays(2);
    private long _finished;

    /// <summary>Attempts whose outcome was recorded (committed).</summary>
    public void Finished(int count) => Interlocked.Add(ref _finished, count);

    /// <summary>Writes what was counted since the last write into the current minute's row.</summary>
    public async Task FlushAsync(CancellationToken ct)
    {
        var finished = Interlocked.Exchange(ref _finished, 0);
        try
        {
            await using var cmd = dataSource.CreateCommand("""
                with old as (delete from runs.minute_figures where minute < @m - @keep)
                insert into runs.minute_figures (minute, tasks_finished, queued_tasks)
                values (@m, @n, (select count(*) from runs.task_instances where state = 'queued'))
                on conflict (minute) do update
                set tasks_finished = runs.minute_figures.tasks_finished + excluded.tasks_finished,
                    queued_tasks = greatest(runs.minute_figures.queued_tasks, excluded.queued_tasks)
                """);
            cmd.Parameters.AddWithValue("m", Minute(time.GetUtcNow()));
            cmd.Parameters.AddWithValue("n", finished);
            cmd.Parameters.AddWithValue("keep", Keep);
            await cmd.ExecuteNonQueryAsync(ct);
        }
        catch
        {
            Interlocked.Add(ref _finished, finished);
            throw;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var now = time.GetUtcNow();
            // Just before the minute ends, so the count lands in the minute it happened in.
            var next = Minute(now).AddMinutes(1).AddSeconds(-1);
            if (next <= now)
                next = next.AddMinutes(1);
            await Task.Delay(next - now, time, stoppingToken);
            try
            {
                await FlushAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Writing the minute's figures failed; they are added to the next minute's");
            }
        }
    }

    public static DateTimeOffset Minute(DateTimeOffset t) => new(t.UtcTicks - t.UtcTicks % TimeSpan.TicksPerMinute, TimeSpan.Zero);
}

/// <summary>The last hour's figures, a point a minute, oldest first; minutes without a row are zero.</summary>
internal static class LastHourFigures
{
    public sealed record Result(IReadOnlyList<double> TasksPerMinute, IReadOnlyList<double> QueueDepth);

    public sealed record Query : IQuery<Result>;

    public sealed class Handler(NpgsqlDataSource dataSource, TimeProvider time) : IQueryHandler<Query, Result>
    {
        public async ValueTask<Result> Handle(Query query, CancellationToken cancellationToken)
        {
            var end = MinuteFigures.Minute(time.GetUtcNow());
            var start = end.AddMinutes(-59);
            var finished = new double[60];
            var queued = new double[60];
            await using var cmd = dataSource.CreateCommand("select minute, tasks_finished, queued_tasks from runs.minute_figures where minute >= @s and minute <= @e");
            cmd.Parameters.AddWithValue("s", start);
            cmd.Parameters.AddWithValue("e", end);
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var i = (int)((reader.GetFieldValue<DateTimeOffset>(0) - start).TotalMinutes);
                finished[i] = reader.GetInt64(1);
                queued[i] = reader.GetInt64(2);
            }
            return new Result(finished, queued);
        }
    }
}
