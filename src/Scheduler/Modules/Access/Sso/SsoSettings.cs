namespace Scheduler.Modules.Access.Sso;

/// <summary>The single sign-on settings read at start-up: each null when that way of signing in is off.</summary>
internal sealed record SsoConfig(OidcSettings? Oidc, LdapSettings? Ldap)
{
    public static SsoConfig From(IConfiguration configuration) => new(OidcSettings.From(configuration), LdapSettings.From(configuration));
}

/// <summary>
/// <c>Auth:Oidc</c>: OpenID Connect sign-in for the admin pages (authorization code + PKCE),
/// on when <see cref="Authority"/> is set. <see cref="RolesClaim"/> names the claim that carries
/// the user's groups (or roles); <c>RoleMappings</c> maps them (<see cref="RoleMapping"/>).
/// </summary>
internal sealed record OidcSettings(
    string Authority, string ClientId, string? ClientSecret, string RolesClaim, string UsernameClaim,
    IReadOnlyList<string> Scopes, bool RequireHttpsMetadata, string DisplayName, RoleMapping Mappings)
{
    public const string Section = "Auth:Oidc";
    public const string Scheme = "Oidc";
    public const string CallbackPath = "/admin/signin-oidc";

    /// <summary>The settings, or null when OIDC is off; an <see cref="InvalidOperationException"/> when half set.</summary>
    public static OidcSettings? From(IConfiguration configuration)
    {
        var section = configuration.GetSection(Section);
        var authority = section["Authority"];
        if (string.IsNullOrWhiteSpace(authority))
            return null;
        var clientId = section["ClientId"];
        if (string.IsNullOrWhiteSpace(clientId))
            throw new InvalidOperationException($"{Section}:Authority is set but {Section}:ClientId is not.");
        var mappings = RoleMapping.Parse(section.GetSection("RoleMappings").GetChildren().Select(c => KeyValuePair.Create(c.Key, c.Value)), Section + ":RoleMappings");
        if (mappings.Count == 0)
            throw new InvalidOperationException($"{Section}:RoleMappings is empty: no one could sign in (map at least one group, e.g. {Section}:RoleMappings:<group>=admin).");
        var scopes = (section["Scopes"] ?? "openid profile").Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return new OidcSettings(authority.Trim(), clientId.Trim(), section["ClientSecret"], section["RolesClaim"] ?? "groups",
            section["UsernameClaim"] ?? "preferred_username", scopes, section.GetValue("RequireHttpsMetadata", true),
            section["DisplayName"] ?? "SSO", mappings);
    }
}

/// <summary>
/// <c>Auth:Ldap</c>: the login form's username and password checked by an LDAP bind, on when
/// <see cref="Host"/> is set. The user's DN comes from <see cref="BindDnTemplate"/> (<c>{0}</c>: the
/// escaped username), or from a search under <see cref="SearchBase"/> with <see cref="UserFilter"/>
/// (bound as <see cref="ServiceDn"/> when given). Groups: entries under <see cref="GroupSearchBase"/>
/// matching <see cref="GroupFilter"/> (<c>{0}</c>: the user's DN, <c>{1}</c>: the username), named
/// by <see cref="GroupNameAttribute"/>; <c>GroupMappings</c> maps them (<see cref="RoleMapping"/>).
/// </summary>
internal sealed record LdapSettings(
    string Host, int Port, bool StartTls, string? BindDnTemplate, string? SearchBase, string UserFilter,
    string? ServiceDn, string? ServicePassword, string GroupSearchBase, string GroupFilter, string GroupNameAttribute,
    TimeSpan Timeout, RoleMapping Mappings)
{
    public const string Section = "Auth:Ldap";

    public static LdapSettings? From(IConfiguration configuration)
    {
        var section = configuration.GetSection(Section);
        var host = section["Host"];
        if (string.IsNullOrWhiteSpace(host))
            return null;
        var template = section["BindDnTemplate"];
        var searchBase = section["SearchBase"];
        if (string.IsNullOrWhiteSpace(template) == string.IsNullOrWhiteSpace(searchBase))
            throw new InvalidOperationException($"{Section}: set exactly one of BindDnTemplate (e.g. uid={{0}},ou=people,dc=example,dc=org) and SearchBase.");
        if (template is not null && !template.Contains("{0}", StringComparison.Ordinal))
            throw new InvalidOperationException($"{Section}:BindDnTemplate must contain {{0}} (the username).");
        var groupBase = section["GroupSearchBase"] ?? searchBase;
        if (string.IsNullOrWhiteSpace(groupBase))
            throw new InvalidOperationException($"{Section}:GroupSearchBase is required with BindDnTemplate.");
        var mappings = RoleMapping.Parse(section.GetSection("GroupMappings").GetChildren().Select(c => KeyValuePair.Create(c.Key, c.Value)), Section + ":GroupMappings");
        if (mappings.Count == 0)
            throw new InvalidOperationException($"{Section}:GroupMappings is empty: no one could sign in (map at least one group, e.g. {Section}:GroupMappings:<group>=admin).");
        var startTls = section.GetValue("StartTls", false);
        return new LdapSettings(host.Trim(), section.GetValue("Port", 389), startTls, template, searchBase,
            section["UserFilter"] ?? "(uid={0})", section["ServiceDn"], section["ServicePassword"], groupBase,
            section["GroupFilter"] ?? "(|(member={0})(uniqueMember={0})(memberUid={1}))", section["GroupNameAttribute"] ?? "cn",
            TimeSpan.FromSeconds(section.GetValue("TimeoutSeconds", 10)), mappings);
    }
}
