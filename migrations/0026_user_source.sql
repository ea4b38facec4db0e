-- Single sign-on for the admin pages: a user comes from this database ('local', with a
-- password hash), from an OpenID Connect provider ('oidc') or from an LDAP directory ('ldap').
-- SSO users have no password here: the provider checks it, and their role is set again from
-- their groups at every sign-in (see Modules/Access/Sso). A username belongs to one source:
-- an SSO sign-in never takes over a local user of the same name.
alter table access.users add column source text not null default 'local'
    check (source in ('local', 'oidc', 'ldap'));
alter table access.users alter column password_hash drop not null;
alter table access.users add constraint ck_users_password_of_local
    check ((source = 'local') = (password_hash is not null));
