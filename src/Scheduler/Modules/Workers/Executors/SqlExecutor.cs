using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Npgsql;
using Scheduler.Abstractions;
using Scheduler.Modules.Workers.Pool;

namespace Scheduler.Modules.Workers.Executors;

/// <summary>
/// Runs a statement (or several) on a stored PostgreSQL connection. Logs rows affected and
/// the first rows of each result. The connection's secret is resolved at run time and never
/// logged. A cancel cancels the command on the server. A task without a timeout of its own
/// runs its statement under <see cref="WorkerOptions.SqlCommandTimeoutSeconds"/>.
/// </summary>
internal sealed class SqlExecutor(IOptions<WorkerOptions> options) : ITaskExecutor
{
    private const int RowsShown = 20;

    public string Type => "sql";

    public async Task<TaskOutcome> ExecuteAsync(TaskExecutionContext context, CancellationToken cancellationToken)
    {
        var seconds = context.Timeout is null ? (int)Math.Ceiling(Math.Max(0, options.Value.SqlCommandTimeoutSeconds)) : 0;
        try
        {
            return await RunAsync(context, seconds, cancellationToken);
        }
        catch (NpgsqlException e) when (e.InnerException is TimeoutException && !cancellationToken.IsCancellationRequested)
        {
            return TaskOutcome.Failed($"the statement did not finish within {seconds.ToString(CultureInfo.InvariantCulture)} s (Workers:SqlCommandTimeoutSeconds; a task's own timeout replaces this limit)");
        }
    }

    private static async Task<TaskOutcome> RunAsync(TaskExecutionContext context, int commandTimeout, CancellationToken cancellationToken)
    {
        var name = context.Task["connection"]?.GetValue<string>() ?? throw new InvalidOperationException("a sql task needs 'connection'");
        var statement = context.Task["statement"]?.GetValue<string>() ?? throw new InvalidOperationException("a sql task needs 'statement'");
        var connection = await context.Connections.ResolveAsync(name, cancellationToken);
        if (connection is null)
            return TaskOutcome.Failed($"no connection named '{name}'");
        if (connection.Kind != "postgres")
            return TaskOutcome.Failed($"connection '{name}' is of kind '{connection.Kind}'; sql tasks run on 'postgres' connections");

        var builder = new NpgsqlConnectionStringBuilder(connection.ConnectionString) { ApplicationName = $"scheduler:{context.DagName}.{context.TaskId}" };
        await using var db = new NpgsqlConnection(builder.ConnectionString);
        await db.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(statement, db) { CommandTimeout = commandTimeout };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        // The output: the rows of the last result that has columns, at most TaskOutputs.MaxRows.
        JsonArray? kept = null;
        var truncated = false;
        do
        {
            if (reader.FieldCount > 0)
            {
                var header = string.Join(" | ", Enumerable.Range(0, reader.FieldCount).Select(reader.GetName));
                context.Log.WriteLine(header);
                var rows = 0;
                kept = [];
                truncated = false;
                while (await reader.ReadAsync(cancellationToken))
                {
                    if (kept.Count < TaskOutputs.MaxRows)
                        kept.Add(RowOf(reader));
                    else
                        truncated = true;
                    if (rows++ < RowsShown)
                    {
                        var line = new StringBuilder();
                        for (var i = 0; i < reader.FieldCount; i++)
                            line.Append(i == 0 ? "" : " | ").Append(reader.IsDBNull(i) ? "null" : Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture));
                        context.Log.WriteLine(line.ToString());
                    }
                }
                context.Log.WriteLine($"({rows} row{(rows == 1 ? "" : "s")})");
            }
        } while (await reader.NextResultAsync(cancellationToken));
        if (reader.RecordsAffected >= 0)
            context.Log.WriteLine($"{reader.RecordsAffected} row(s) affected");
        if (kept is null)
            return TaskOutcome.Success();
        var output = new JsonObject { ["rows"] = kept };
        if (truncated)
            output["truncated"] = true;
        return TaskOutcome.Success() with { Output = output };
    }

    private static JsonObject RowOf(NpgsqlDataReader reader)
    {
        var row = new JsonObject();
        for (var i = 0; i < reader.FieldCount; i++)
        {
            var value = reader.IsDBNull(i) ? null : reader.GetValue(i);
            row[reader.GetName(i)] = value switch
            {
                null => null,
                bool or short or int or long or decimal or float or double or string => JsonValue.Create(value),
                DateTime d => JsonValue.Create(d),
                DateTimeOffset d => JsonValue.Create(d),
                _ => JsonValue.Create(Convert.ToString(value, CultureInfo.InvariantCulture)),
            };
        }
        return row;
    }
}
