using Mediator;
using Microsoft.EntityFrameworkCore;

namespace Scheduler.Modules.Access;

/// <summary>Deletes a user; false when there was none.</summary>
internal static class DeleteUser
{
    public sealed record Command(long Id) : ICommand<bool>;

    public sealed class Handler(AccessDbContext db) : ICommandHandler<Command, bool>
    {
        public async ValueTask<bool> Handle(Command command, CancellationToken cancellationToken) =>
            await db.Users.Where(u => u.Id == command.Id).ExecuteDeleteAsync(cancellationToken) > 0;
    }
}
