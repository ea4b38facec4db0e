using System.Text.RegularExpressions;
using Npgsql;

namespace Scheduler.Infrastructure.Database;

/// <summary>
/// LISTEN on some channels on a connection of its own, for as long as the token lives.
/// After a failure (the server restarted, the network dropped) it reconnects after
/// <c>reconnectDelay</c>, for ever. A notification sent while no connection listened is
/// lost, which PostgreSQL does not replay: so after every successful LISTEN (the first one
/// included) <c>onConnected</c> runs, and the owner catches up there (claims, scans) on
/// whatever it may have missed. Notifications are delivered one at a time, in the order the
/// server sent them, on the listening loop: a callback must be quick. One that throws is
/// logged and costs only that notification, not the connection.
/// </summary>
internal sealed partial class PostgresListener
{
    private readonly Func<CancellationToken, ValueTask<NpgsqlConnection>> _open;
    private readonly IReadOnlyList<string> _channels;
    private readonly Action<NpgsqlNotificationEventArgs> _onNotification;
    private readonly Func<NpgsqlConnection, CancellationToken, Task> _onConnected;
    private readonly ILogger _logger;
    private readonly TimeSpan _reconnectDelay;
    private readonly TimeProvider _time;

    /// <param name="open">Opens the dedicated connection, e.g. <c>dataSource.OpenConnectionAsync</c>; it is disposed when it fails or the token fires.</param>
    /// <param name="channels">Channel names: lower-case identifiers, as NOTIFY spells them unquoted.</param>
    /// <param name="onNotification">Called for each notification on any of the channels.</param>
    /// <param name="onConnected">Called after each successful LISTEN, with the listening connection and a token that fires when that connection stops listening; a throw counts as a lost connection.</param>
    public PostgresListener(
        Func<CancellationToken, ValueTask<NpgsqlConnection>> open,
        IReadOnlyList<string> channels,
        Action<NpgsqlNotificationEventArgs> onNotification,
        Func<NpgsqlConnection, CancellationToken, Task>? onConnected,
        ILogger logger,
        TimeSpan? reconnectDelay = null,
        TimeProvider? time = null)
    {
        if (channels.Count == 0)
            throw new ArgumentException("at least one channel is needed", nameof(channels));
        foreach (var channel in channels)
            if (!ChannelName().IsMatch(channel))
                throw new ArgumentException($"'{channel}' is not a lower-case identifier", nameof(channels));
        _open = open;
        _channels = channels;
        _onNotification = onNotification;
        _onConnected = onConnected ?? ((_, _) => Task.CompletedTask);
        _logger = logger;
        _reconnectDelay = reconnectDelay ?? TimeSpan.FromSeconds(1);
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Runs until <paramref name="ct"/> fires; never throws for a failed connection.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var connection = await _open(ct);
                // Fires when this connection stops listening, for whatever reason: work that
                // onConnected started for this connection (a leader's loop) ends with it.
                using var listening = CancellationTokenSource.CreateLinkedTokenSource(ct);
                try
                {
                    connection.Notification += (_, e) => Deliver(e);
                    await using (var listen = new NpgsqlCommand(string.Concat(_channels.Select(c => $"listen {c};")), connection))
                        await listen.ExecuteNonQueryAsync(ct);
                    await _onConnected(connection, listening.Token);
                    while (!ct.IsCancellationRequested)
                        await connection.WaitAsync(ct);
                }
                finally
                {
                    await listening.CancelAsync();
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                _logger.LogWarning(e, "Listening on {Channels} failed; reconnecting in {Delay}", string.Join(", ", _channels), _reconnectDelay);
                try
                {
                    await Task.Delay(_reconnectDelay, _time, ct);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private void Deliver(NpgsqlNotificationEventArgs e)
    {
        try
        {
            _onNotification(e);
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "Handling a notification on {Channel} failed", e.Channel);
        }
    }

    [GeneratedRegex("^[a-z_][a-z0-9_]*$")]
    private static partial Regex ChannelName();
}
