using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace Scheduler.Infrastructure.Database;

/// <summary>
/// Applies the SQL files in <c>migrations/</c> in name order, each once, each in its own
/// transaction. A session advisory lock serialises replicas starting together, so exactly
/// one applies a migration and the others see it applied. A changed file that was already
/// applied is an error rather than a silent divergence between environments.
/// </summary>
internal sealed class MigrationRunner(NpgsqlDataSource dataSource, ILogger<MigrationRunner> logger)
{
    private const long AdvisoryLockKey = 0x5343_4845_4455_4c45; // "SCHEDULE"

    public static string FindMigrationsPath(IConfiguration configuration)
    {
        var configured = configuration["Database:MigrationsPath"];
        if (!string.IsNullOrWhiteSpace(configured))
            return Path.GetFullPath(configured);
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "migrations");
                if (Directory.Exists(candidate) && Directory.EnumerateFiles(candidate, "*.sql").Any())
                    return candidate;
            }
        }
        throw new InvalidOperationException("No 'migrations' folder with .sql files found; set Database:MigrationsPath.");
    }

    public static IReadOnlyList<Migration> Load(string path) =>
        Directory.EnumerateFiles(path, "*.sql")
            .Select(file => new Migration(Path.GetFileNameWithoutExtension(file), File.ReadAllText(file)))
            .OrderBy(m => m.Version, StringComparer.Ordinal)
            .ToList();

    public async Task<int> ApplyAsync(IReadOnlyList<Migration> migrations, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await Execute(connection, "select pg_advisory_lock(@key)", cancellationToken, ("key", AdvisoryLockKey));
        try
        {
            await Execute(connection, """
                create table if not exists public.schema_migrations (
                    version text primary key,
                    checksum text not null,
                    applied_at timestamptz not null default now())
                """, cancellationToken);
            var applied = new Dictionary<string, string>();
            await using (var cmd = new NpgsqlCommand("select version, checksum from public.schema_migrations", connection))
            await using (var reader = await cmd.ExecuteReaderAsync(cancellationToken))
                while (await reader.ReadAsync(cancellationToken))
                    applied[reader.GetString(0)] = reader.GetString(1);

            var count = 0;
            foreach (var migration in migrations)
            {
                if (applied.TryGetValue(migration.Version, out var checksum))
                {
                    if (checksum != migration.Checksum)
                        throw new InvalidOperationException($"Migration {migration.Version} was changed after it was applied; add a new migration instead.");
                    continue;
                }
                await using var tx = await connection.BeginTransactionAsync(cancellationToken);
                await using (var cmd = new NpgsqlCommand(migration.Sql, connection, tx))
                    await cmd.ExecuteNonQueryAsync(cancellationToken);
                await using (var cmd = new NpgsqlCommand("insert into public.schema_migrations(version, checksum) values (@v, @c)", connection, tx))
                {
                    cmd.Parameters.AddWithValue("v", migration.Version);
                    cmd.Parameters.AddWithValue("c", migration.Checksum);
                    await cmd.ExecuteNonQueryAsync(cancellationToken);
                }
                await tx.CommitAsync(cancellationToken);
                logger.LogInformation("Applied migration {Version}", migration.Version);
                count++;
            }
            return count;
        }
        finally
        {
            await Execute(connection, "select pg_advisory_unlock(@key)", CancellationToken.None, ("key", AdvisoryLockKey));
        }
    }

    /// <summary>The versions on disk that the database has not applied yet.</summary>
    public async Task<IReadOnlyList<string>> PendingAsync(IReadOnlyList<Migration> migrations, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var cmd = new NpgsqlCommand("select coalesce(array_agg(version), '{}') from public.schema_migrations", connection);
        string[] applied;
        try
        {
            applied = (string[])(await cmd.ExecuteScalarAsync(cancellationToken))!;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            applied = [];
        }
        return migrations.Select(m => m.Version).Except(applied).ToList();
    }

    private static async Task Execute(NpgsqlConnection connection, string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var cmd = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
            cmd.Parameters.AddWithValue(name, value);
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }
}

internal sealed record Migration(string Version, string Sql)
{
    public string Checksum { get; } = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Sql.ReplaceLineEndings("\n"))));
}
