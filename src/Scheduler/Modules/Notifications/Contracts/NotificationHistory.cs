using Mediator;

namespace Scheduler.Modules.Notifications.Contracts;

/// <summary>
/// Retention of the module's history: events with their deliveries, and monitor pings, past
/// their configured age. Sent by the hourly retention job; returns the rows deleted.
/// </summary>
public sealed record PurgeNotificationHistory : ICommand<int>;
