-- People who sign in to the admin pages at /admin: username + password (ASP.NET Core
-- PasswordHasher, PBKDF2 with a per-hash salt and version marker), the same three roles as
-- API keys. Deleting a user removes the row; a signed-in cookie stops working on its next
-- validation (see Modules/Access/AdminCookie.cs).
create table access.users (
    id             bigint generated always as identity primary key,
    username       text not null,
    role           text not null check (role in ('viewer', 'operator', 'admin')),
    password_hash  text not null,
    created_at     timestamptz not null,
    created_by     text null,
    updated_at     timestamptz not null,
    constraint uq_users_username unique (username)
);

-- The admin dashboard's recent failures: newest failed runs first, without a scan of the history.
create index ix_dag_runs_failed on runs.dag_runs (finished_at desc) where state = 'failed';
