using System.DirectoryServices.Protocols;
using System.Net;
using System.Text;

namespace Scheduler.Modules.Access.Sso;

/// <summary>A user the directory accepted: their DN and the names of their groups.</summary>
internal sealed record LdapAccount(string Dn, IReadOnlyList<string> Groups);

/// <summary>The directory could not be reached or refused to answer (not a wrong password).</summary>
internal sealed class LdapUnavailableException(string message, Exception inner) : Exception(message, inner);

/// <summary>
/// Checks a username and password with an LDAP simple bind (System.DirectoryServices.Protocols,
/// OpenLDAP's libldap on Linux), optionally after StartTLS, then reads the user's groups. The
/// username goes into DNs and filters escaped (RFC 4514, RFC 4515), never as syntax.
/// </summary>
internal sealed class LdapDirectory(LdapSettings settings)
{
    private const int InvalidCredentials = 49;

    /// <summary>The account, or null when the directory refuses the username or password.</summary>
    public Task<LdapAccount?> VerifyAsync(string username, string password, CancellationToken cancellationToken) =>
        Task.Run(() => Verify(username, password), cancellationToken);

    private LdapAccount? Verify(string username, string password)
    {
        // An empty password would be an anonymous bind, which "succeeds": never a sign-in.
        if (string.IsNullOrEmpty(username) || string.IsNullOrEmpty(password))
            return null;
        try
        {
            using var connection = Connect();
            string? dn;
            if (settings.BindDnTemplate is { } template)
                dn = template.Replace("{0}", EscapeDnValue(username), StringComparison.Ordinal);
            else
            {
                BindForSearch(connection);
                dn = FindUserDn(connection, username);
                if (dn is null)
                    return null;
            }
            if (!TryBind(connection, dn, password))
                return null;
            return new LdapAccount(dn, Groups(connection, dn, username));
        }
        catch (LdapException e)
        {
            throw new LdapUnavailableException($"LDAP server {settings.Host}:{settings.Port}: {e.Message} ({e.ErrorCode})", e);
        }
        catch (DirectoryOperationException e)
        {
            throw new LdapUnavailableException($"LDAP server {settings.Host}:{settings.Port}: {e.Message}", e);
        }
    }

    private LdapConnection Connect()
    {
        var connection = new LdapConnection(new LdapDirectoryIdentifier(settings.Host, settings.Port)) { AuthType = AuthType.Basic, Timeout = settings.Timeout };
        connection.SessionOptions.ProtocolVersion = 3;
        connection.SessionOptions.ReferralChasing = ReferralChasingOptions.None;
        if (settings.StartTls)
            connection.SessionOptions.StartTransportLayerSecurity(null);
        return connection;
    }

    /// <summary>False for a wrong DN or password; anything else wrong throws.</summary>
    private static bool TryBind(LdapConnection connection, string dn, string password)
    {
        try
        {
            connection.AuthType = AuthType.Basic;
            connection.Bind(new NetworkCredential(dn, password));
            return true;
        }
        catch (LdapException e) when (e.ErrorCode == InvalidCredentials)
        {
            return false;
        }
    }

    /// <summary>The search for the user's DN: as the service account when configured, else anonymously.</summary>
    private void BindForSearch(LdapConnection connection)
    {
        if (settings.ServiceDn is { } serviceDn)
        {
            if (!TryBind(connection, serviceDn, settings.ServicePassword ?? ""))
                throw new LdapUnavailableException($"LDAP server {settings.Host}:{settings.Port} refused {LdapSettings.Section}:ServiceDn's password", new InvalidOperationException("invalid service credentials"));
            return;
        }
        connection.AuthType = AuthType.Anonymous;
        connection.Bind();
    }

    private string? FindUserDn(LdapConnection connection, string username)
    {
        var filter = string.Format(System.Globalization.CultureInfo.InvariantCulture, settings.UserFilter, EscapeFilterValue(username));
        var response = (SearchResponse)connection.SendRequest(new SearchRequest(settings.SearchBase, filter, SearchScope.Subtree, "1.1"));
        // Two entries for one username: ambiguous, so nobody signs in with it.
        return response.Entries.Count == 1 ? response.Entries[0].DistinguishedName : null;
    }

    private List<string> Groups(LdapConnection connection, string dn, string username)
    {
        var filter = string.Format(System.Globalization.CultureInfo.InvariantCulture, settings.GroupFilter, EscapeFilterValue(dn), EscapeFilterValue(username));
        var response = (SearchResponse)connection.SendRequest(new SearchRequest(settings.GroupSearchBase, filter, SearchScope.Subtree, settings.GroupNameAttribute));
        var groups = new List<string>();
        foreach (SearchResultEntry entry in response.Entries)
        {
            if (entry.Attributes[settings.GroupNameAttribute] is { } attribute)
                groups.AddRange(attribute.GetValues(typeof(string)).Cast<string>());
        }
        return groups;
    }

    /// <summary>A value for a DN's attribute (RFC 4514): special characters and edge spaces escaped.</summary>
    public static string EscapeDnValue(string value)
    {
        var text = new StringBuilder(value.Length + 8);
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c is ',' or '+' or '"' or '\\' or '<' or '>' or ';' or '=' || (c == '#' && i == 0) || (c == ' ' && (i == 0 || i == value.Length - 1)))
                text.Append('\\').Append(c);
            else if (c == '\0')
                text.Append("\\00");
            else
                text.Append(c);
        }
        return text.ToString();
    }

    /// <summary>A value for a search filter (RFC 4515): <c>* ( ) \ NUL</c> as hex escapes.</summary>
    public static string EscapeFilterValue(string value)
    {
        var text = new StringBuilder(value.Length + 8);
        foreach (var c in value)
        {
            text.Append(c switch
            {
                '*' => "\\2a",
                '(' => "\\28",
                ')' => "\\29",
                '\\' => "\\5c",
                '\0' => "\\00",
                _ => c.ToString(),
            });
        }
        return text.ToString();
    }
}
