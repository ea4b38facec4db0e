using Npgsql;
using Scheduler.Infrastructure.OpenApi;

namespace Scheduler.Modules.Workers.Connections;

/// <summary>
/// Stored connections for sql tasks (and plugins), as the API shows them: where they point,
/// never the connection string, which is write-only (encrypted at rest, never in a response,
/// never in a log).
/// </summary>
internal static class ConnectionResponses
{
    [SchemaName("Workers.Connections.ManageConnections.Info")]
    public sealed record Info(string Name, string Kind, string? Description, string? Host, string? Database, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt,
        [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.Never)] string? Team);

    public static Info ToInfo(StoredConnection c, ConnectionSecrets secrets)
    {
        string? host = null, database = null;
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(secrets.Unprotect(c.Secret));
            (host, database) = (builder.Host, builder.Database);
        }
        catch (Exception e) when (e is ArgumentException or System.Security.Cryptography.CryptographicException)
        {
            // Shown without the details rather than failing the listing.
        }
        return new Info(c.Name, c.Kind, c.Description, host, database, c.CreatedAt, c.UpdatedAt, c.Team);
    }
}
