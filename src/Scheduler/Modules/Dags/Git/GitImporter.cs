using System.Text.Json;
using FluentValidation;
using Mediator;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using Scheduler.Infrastructure.Text;

namespace Scheduler.Modules.Dags.Git;

/// <summary>What one sync did.</summary>
/// <param name="Changed">False when the commit had already been imported (by this replica or another).</param>
/// <param name="Updated">DAGs created or given a new version by this commit.</param>
/// <param name="Paused">DAGs whose file is gone, paused by this commit.</param>
internal sealed record SyncResult(string Repository, string Branch, string Commit, bool Changed, IReadOnlyList<string> Updated, IReadOnlyList<string> Paused, int ImportErrors);

/// <summary>
/// Imports the branch's head commit: every JSON/YAML file under the path goes through
/// <see cref="UpsertDag"/> (the REST API's validator and version rules, with the commit and
/// path as its source); files that fail are recorded as import errors and leave their DAG's
/// running version alone; owned DAGs with no file any more are paused. Replicas take a
/// session advisory lock per repository and record the imported commit, so a commit is
/// imported once, whichever replica gets there first.
/// </summary>
internal sealed class GitImporter(IOptions<GitOptions> options, IServiceScopeFactory scopes, NpgsqlDataSource dataSource, TimeProvider clock, ILogger<GitImporter> logger)
{
    public const string Actor = "git";
    private const int LockClass = 4;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly GitCli _git = new(
        options.Value.CacheFolder ?? System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"scheduler-git-{Environment.ProcessId}-{Guid.NewGuid():N}"),
        TimeSpan.FromSeconds(options.Value.CommandTimeoutSeconds));

    public bool Configured => !string.IsNullOrWhiteSpace(options.Value.Repository);

    /// <summary>The repository as shown and stored: credentials in the URL masked.</summary>
    public string Repository => SecretMask.Mask(options.Value.Repository ?? "");

    public async Task<SyncResult> SyncAsync(CancellationToken ct)
    {
        var o = options.Value;
        await _gate.WaitAsync(ct);
        try
        {
            var commit = await _git.FetchAsync(o.Repository!, o.Branch, ct);
            await using var connection = await dataSource.OpenConnectionAsync(ct);
            await using (var take = new NpgsqlCommand("select pg_advisory_lock(@c, hashtext(@r))", connection))
            {
                take.Parameters.AddWithValue("c", LockClass);
                take.Parameters.AddWithValue("r", Repository);
                take.CommandTimeout = 0;
                await take.ExecuteNonQueryAsync(ct);
            }
            try
            {
                return await ImportAsync(commit, o, ct);
            }
            finally
            {
                await using var release = new NpgsqlCommand("select pg_advisory_unlock(@c, hashtext(@r))", connection);
                release.Parameters.AddWithValue("c", LockClass);
                release.Parameters.AddWithValue("r", Repository);
                await release.ExecuteNonQueryAsync(CancellationToken.None);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<SyncResult> ImportAsync(string commit, GitOptions o, CancellationToken ct)
    {
        var repository = Repository;
        using (var scope = scopes.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<DagsDbContext>();
            var last = await db.GitSyncs.AsNoTracking().SingleOrDefaultAsync(g => g.Repository == repository, ct);
            if (last is not null && last.Commit == commit && last.Branch == o.Branch)
            {
                var count = await db.ImportErrors.CountAsync(e => e.Repository == repository, ct);
                return new SyncResult(repository, o.Branch, commit, false, [], [], count);
            }
        }

        var now = clock.GetUtcNow();
        var errors = new List<ImportError>();
        var names = new Dictionary<string, string>(StringComparer.Ordinal); // DAG name -> file
        var updated = new List<string>();
        foreach (var file in (await _git.ListFilesAsync(commit, o.NormalisedPath, ct)).Where(DagFile.IsDagFile).Order(StringComparer.Ordinal))
        {
            var (definition, problems) = DagFile.Parse(file, await _git.ReadFileAsync(commit, file, ct));
            if (definition is not null)
            {
                definition.Name ??= System.IO.Path.GetFileNameWithoutExtension(file);
                if (names.TryGetValue(definition.Name, out var first))
                    problems = new() { ["name"] = [$"DAG '{definition.Name}' is already defined by '{first}'."] };
                else
                {
                    names[definition.Name] = file;
                    problems = await UpsertAsync(definition, new DagSource(repository, commit, file), updated, ct);
                }
            }
            if (problems.Count > 0)
                errors.Add(new ImportError
                {
                    Repository = repository, Path = file, Commit = commit, RecordedAt = now,
                    Errors = JsonSerializer.Serialize(problems),
                    Message = problems.Count == 1 && problems.First().Value.Length == 1
                        ? $"{problems.First().Key}: {problems.First().Value[0]}"
                        : $"{problems.Sum(p => p.Value.Length)} errors; see 'errors'.",
                });
        }
        var paused = await FinishAsync(repository, o.Branch, commit, names, errors, now, ct);
        logger.LogInformation("Git sync of {Repository} at {Commit}: {Updated} DAG(s) updated, {Paused} paused, {Errors} import error(s)",
            repository, commit, updated.Count, paused.Count, errors.Count);
        return new SyncResult(repository, o.Branch, commit, true, updated, paused, errors.Count);
    }

    /// <summary>The REST API's own create-or-replace; its validation failures become the file's errors.</summary>
    private async Task<Dictionary<string, string[]>> UpsertAsync(Definitions.DagDefinition definition, DagSource source, List<string> updated, CancellationToken ct)
    {
        using var scope = scopes.CreateScope();
        try
        {
            var result = await scope.ServiceProvider.GetRequiredService<ISender>().Send(new UpsertDag.Command(definition.Name!, definition, Actor, source), ct);
            if (result.Changed)
                updated.Add(definition.Name!);
            return [];
        }
        catch (ValidationException e)
        {
            return e.Errors.GroupBy(f => string.IsNullOrEmpty(f.PropertyName) ? "$" : f.PropertyName)
                .ToDictionary(g => g.Key, g => g.Select(f => f.ErrorMessage).Distinct().ToArray());
        }
    }

    /// <summary>
    /// Pauses owned DAGs that no file defines any more (a file that fails keeps its DAG), replaces
    /// the import errors and records the commit, in one transaction.
    /// </summary>
    private async Task<List<string>> FinishAsync(string repository, string branch, string commit, Dictionary<string, string> names, List<ImportError> errors, DateTimeOffset now, CancellationToken ct)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<DagsDbContext>();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var failing = errors.Select(e => e.Path).ToHashSet(StringComparer.Ordinal);
        var owned = await db.Dags.Where(d => d.SourceRepository == repository && d.SourcePath != null).ToListAsync(ct);
        var paused = new List<string>();
        foreach (var dag in owned.Where(d => !names.ContainsKey(d.Name) && !failing.Contains(d.SourcePath!)))
        {
            dag.Paused = true;
            dag.SourcePath = null;
            dag.SourceCommit = commit;
            dag.UpdatedAt = now;
            paused.Add(dag.Name);
        }
        await db.ImportErrors.Where(e => e.Repository == repository).ExecuteDeleteAsync(ct);
        db.ImportErrors.AddRange(errors);
        var state = await db.GitSyncs.SingleOrDefaultAsync(g => g.Repository == repository, ct);
        if (state is null)
            db.GitSyncs.Add(new GitSync { Repository = repository, Branch = branch, Commit = commit, SyncedAt = now });
        else
            (state.Branch, state.Commit, state.SyncedAt) = (branch, commit, now);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return paused;
    }
}
