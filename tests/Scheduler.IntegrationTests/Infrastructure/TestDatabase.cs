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

    /// <summary>
    /// A database of its own beside the test database (<c>&lt;test database&gt;_&lt;suffix&gt;</c>),
    /// dropped and created anew: for server processes that must not share the shared server's
    /// rows. Returns its connection string.
    /// </summary>
    public static async Task<string> CreateFreshAsync(string suffix)
    {
        var builder = new NpgsqlConnectionStringBuilder(ConnectionString);
        var database = builder.Database + "_" + suffix;
        builder.Database = "postgres";
        await using var admin = new NpgsqlConnection(builder.ConnectionString);
        await admin.OpenAsync();
        await using (var drop = new NpgsqlCommand($"drop database if exists \"{database}\" with (force)", admin))
            await drop.ExecuteNonQueryAsync();
        await using (var create = new NpgsqlCommand($"create database \"{database}\"", admin))
            await create.ExecuteNonQueryAsync();
        builder.Database = database;
        return builder.ConnectionString;
    }

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
