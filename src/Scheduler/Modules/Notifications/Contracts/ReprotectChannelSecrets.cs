using Mediator;

namespace Scheduler.Modules.Notifications.Contracts;

/// <summary>
/// Re-encrypts every channel's secret settings under the current Data Protection key (a key
/// rotation, before the old keys are revoked), in one transaction. Returns the channels re-encrypted.
/// </summary>
public sealed record ReprotectChannelSecrets : ICommand<int>;
