using Npgsql;

namespace Scheduler.IntegrationTests.Infrastructure;

/// <summary>
/// The PostgreSQL database the tests run against: <c>SCHEDULER_TEST_CONNECTION</c>, set by
/// test.sh to a freshly created database. Tests never run against anything else.
/// </summary>
public static class TestDatabase
{
    public static string ConnectionString =>
        Environment.GetEnvironmentVariable("SCHEDULER_TEST_CONNECTION") is { Length: > 0 } cs
            ? cs
            : throw new InvalidOperationException("SCHEDULER_TEST_CONNECTION is not set: run the tests through ./test.sh, which starts PostgreSQL and sets it.");

    public static async Task<T?> ScalarAsync<T>(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
            command.Parameters.AddWithValue(name, value);
        var result = await command.ExecuteScalarAsync();
        return result is null or DBNull ? default : (T)result;
    }
}
