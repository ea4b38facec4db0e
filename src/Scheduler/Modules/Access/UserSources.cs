namespace Scheduler.Modules.Access;

/// <summary>Where a user of the admin pages signs in (the users table's <c>source</c> column).</summary>
internal static class UserSources
{
    /// <summary>A password kept (hashed) in this database.</summary>
    public const string Local = "local";

    /// <summary>An OpenID Connect provider (<c>Auth:Oidc</c>).</summary>
    public const string Oidc = "oidc";

    /// <summary>An LDAP directory (<c>Auth:Ldap</c>).</summary>
    public const string Ldap = "ldap";
}
