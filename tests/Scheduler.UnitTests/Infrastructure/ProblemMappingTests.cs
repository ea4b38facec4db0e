using Microsoft.EntityFrameworkCore;
using Npgsql;
using Scheduler.Infrastructure.Http;

namespace Scheduler.UnitTests.Infrastructure;

public sealed class ProblemMappingTests
{
    private static PostgresException Postgres(string sqlState) => new("message", "ERROR", "ERROR", sqlState);

    [Fact]
    public void Map_IsConflict_WhenAUniqueKeyRefusedTheWrite()
    {
        Assert.Equal(409, GlobalExceptionHandler.Map(Postgres(PostgresErrorCodes.UniqueViolation)).Status);
        Assert.Equal(409, GlobalExceptionHandler.Map(new DbUpdateException("save", Postgres(PostgresErrorCodes.UniqueViolation))).Status);
    }

    /// <summary>Bad input is stopped before the database; what still fails there is a fault of the server.</summary>
    [Theory]
    [InlineData(PostgresErrorCodes.CharacterNotInRepertoire)]
    [InlineData(PostgresErrorCodes.ForeignKeyViolation)]
    [InlineData(PostgresErrorCodes.DeadlockDetected)]
    public void Map_StaysServerError_ForOtherDatabaseFailures(string sqlState)
    {
        Assert.Equal(500, GlobalExceptionHandler.Map(Postgres(sqlState)).Status);
        Assert.Equal(500, GlobalExceptionHandler.Map(new InvalidOperationException("bug", Postgres(sqlState))).Status);
    }

    [Fact]
    public void Map_StaysServerError_ForABug() =>
        Assert.Equal(500, GlobalExceptionHandler.Map(new NullReferenceException()).Status);
}
