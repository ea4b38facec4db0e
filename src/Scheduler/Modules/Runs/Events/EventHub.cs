using System.Threading.Channels;
using Npgsql;
using Scheduler.Infrastructure.Database;

namespace Scheduler.Modules.Runs.Events;

/// <summary>One run or task state change as streamed; <see cref="Id"/> is its position ("tx.id"); <see cref="MapIndex"/> names an instance of a mapped task.</summary>
internal sealed record RunEvent(string Id, DateTimeOffset At, string Dag, long RunId, string? TaskId, string State, int? MapIndex = null)
{
    public string Kind => TaskId is null ? "run" : "task";
}

/// <summary>Where a stream stands: after every event of transactions before <see cref="Tx"/>, and of <see cref="Tx"/> up to <see cref="RowId"/>.</summary>
internal readonly record struct EventPosition(ulong Tx, long RowId)
{
    public override string ToString() => $"{Tx}.{RowId}";

    public static bool TryParse(string? text, out EventPosition position)
    {
        position = default;
        var dot = text?.IndexOf('.') ?? -1;
        if (dot <= 0 || !ulong.TryParse(text.AsSpan(0, dot), System.Globalization.NumberStyles.None, null, out var tx)
            || !long.TryParse(text.AsSpan(dot + 1), System.Globalization.NumberStyles.None, null, out var row))
            return false;
        position = new EventPosition(tx, row);
        return true;
    }
}

/// <summary>
/// The one reader of <c>runs.events</c> per process: LISTEN wakes it (and, while anyone
/// subscribes, a 1 s timer, for rows a still-running older transaction held back); it reads
/// the new rows once and hands them to every subscriber in memory. Rows are read only when
/// every transaction older than theirs has ended (<c>tx &lt; pg_snapshot_xmin</c>), in
/// (tx, id) order, so each subscriber sees every event exactly once and in one order, which
/// is also the order of the positions a reconnecting client resumes from.
/// </summary>
internal sealed class EventHub(NpgsqlDataSource dataSource, ILogger<EventHub> logger) : BackgroundService
{
    private const int SubscriberBuffer = 10_000;
    private readonly Lock _lock = new();
    private readonly List<Subscription> _subscribers = [];
    private readonly SemaphoreSlim _wake = new(0, int.MaxValue);
    private ulong _boundary;
    private bool _started;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal sealed class Subscription(EventHub hub, Func<RunEvent, bool> filter, ulong boundary) : IDisposable
    {
        public Channel<RunEvent> Live { get; } = Channel.CreateBounded<RunEvent>(new BoundedChannelOptions(SubscriberBuffer) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        /// <summary>Events of transactions from here on come live; before it, from the table.</summary>
        public ulong Boundary { get; } = boundary;
        public Func<RunEvent, bool> Filter { get; } = filter;
        public void Dispose() => hub.Remove(this);
    }

    /// <summary>Subscribes; live events start at the returned subscription's boundary.</summary>
    public async Task<Subscription> SubscribeAsync(Func<RunEvent, bool> filter, CancellationToken ct)
    {
        await _ready.Task.WaitAsync(ct);
        lock (_lock)
        {
            var subscription = new Subscription(this, filter, _boundary);
            _subscribers.Add(subscription);
            return subscription;
        }
    }

    private void Remove(Subscription subscription)
    {
        lock (_lock)
            _subscribers.Remove(subscription);
        subscription.Live.Writer.TryComplete();
    }

    /// <summary>Stored events after <paramref name="after"/> and before <paramref name="boundary"/> (a reconnecting client's gap), filtered in SQL.</summary>
    public async IAsyncEnumerable<RunEvent> ReplayAsync(EventPosition after, ulong boundary, string? dag, long? runId, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var position = after;
        while (true)
        {
            var batch = await ReadAsync("""
                select id, tx::text::numeric, at, dag, run_id, task_id, state, map_index from runs.events
                where (tx, id) > (@tx::text::xid8, @id) and tx < @boundary::text::xid8
                  and (@dag::text is null or dag = @dag) and (@run::bigint is null or run_id = @run)
                order by tx, id limit 1000
                """, [("tx", position.Tx.ToString()), ("id", position.RowId), ("boundary", boundary.ToString()), ("dag", (object?)dag ?? DBNull.Value), ("run", (object?)runId ?? DBNull.Value)], ct);
            foreach (var e in batch.Events)
                yield return e;
            if (batch.Events.Count < 1000)
                yield break;
            position = batch.Last;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!_started && !stoppingToken.IsCancellationRequested)
        {
            try
            {
                _boundary = await XminAsync(stoppingToken);
                _started = true;
                _ready.TrySetResult();
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                logger.LogWarning(e, "The event stream could not read its start position; retrying");
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
        }
        var listener = new PostgresListener(dataSource.OpenConnectionAsync, [RunEvents.Channel], _ => _wake.Release(), (_, _) => { _wake.Release(); return Task.CompletedTask; }, logger);
        var listening = listener.RunAsync(stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                bool any;
                lock (_lock)
                    any = _subscribers.Count > 0;
                await _wake.WaitAsync(any ? TimeSpan.FromSeconds(1) : Timeout.InfiniteTimeSpan, stoppingToken);
                while (_wake.CurrentCount > 0)
                    await _wake.WaitAsync(stoppingToken);
                await PumpAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Reading the event log failed; trying again");
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken).ContinueWith(_ => { }, CancellationToken.None);
            }
        }
        await listening;
    }

    /// <summary>Reads every row of transactions between the last boundary and the current xmin, and fans them out.</summary>
    private async Task PumpAsync(CancellationToken ct)
    {
        var xmin = await XminAsync(ct);
        if (xmin <= _boundary)
            return;
        var position = new EventPosition(_boundary, 0);
        var read = new List<RunEvent>();
        while (true)
        {
            var batch = await ReadAsync("""
                select id, tx::text::numeric, at, dag, run_id, task_id, state, map_index from runs.events
                where (tx, id) > (@tx::text::xid8, @id) and tx < @boundary::text::xid8
                order by tx, id limit 1000
                """, [("tx", position.Tx.ToString()), ("id", position.RowId), ("boundary", xmin.ToString())], ct);
            read.AddRange(batch.Events);
            if (batch.Events.Count < 1000)
                break;
            position = batch.Last;
        }
        // Fan-out and the new boundary under the lock a subscription takes: a subscriber gets
        // these rows live exactly when its replay stops before them.
        lock (_lock)
        {
            foreach (var e in read)
                foreach (var s in _subscribers)
                    if (s.Filter(e) && !s.Live.Writer.TryWrite(e))
                        s.Live.Writer.TryComplete(new InvalidOperationException("subscriber too slow")); // it reconnects with its last id
            _boundary = xmin;
        }
    }

    private async Task<ulong> XminAsync(CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand("select pg_snapshot_xmin(pg_current_snapshot())::text::numeric");
        return (ulong)(decimal)(await cmd.ExecuteScalarAsync(ct))!;
    }

    private async Task<(List<RunEvent> Events, EventPosition Last)> ReadAsync(string sql, (string Name, object Value)[] parameters, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand(sql);
        foreach (var (name, value) in parameters)
            cmd.Parameters.AddWithValue(name, value);
        var events = new List<RunEvent>();
        var last = default(EventPosition);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            last = new EventPosition((ulong)reader.GetDecimal(1), reader.GetInt64(0));
            events.Add(new RunEvent(last.ToString(), reader.GetFieldValue<DateTimeOffset>(2), reader.GetString(3), reader.GetInt64(4),
                reader.IsDBNull(5) ? null : reader.GetString(5), reader.GetString(6), reader.IsDBNull(7) ? null : reader.GetInt32(7)));
        }
        return (events, last);
    }
}
