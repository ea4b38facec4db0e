-- Teams: a DAG, connection, variable, notification channel or monitor may belong to one team
-- (a nullable `team`); API keys and users hold roles per team (`team_roles`, {"<team>": "<role>"})
-- besides their global role, which an API key may now lack (team roles only). The effective
-- role on an object is the higher of the two (see Infrastructure/Auth/TeamAccess.cs). A team
-- that still owns objects cannot be deleted (the foreign keys refuse; DeleteTeam answers 409).
create table access.teams (
    name        text primary key,
    description text null,
    created_at  timestamptz not null,
    created_by  text null,
    updated_at  timestamptz not null
);

alter table access.api_keys alter column role drop not null;
alter table access.api_keys add column team_roles jsonb not null default '{}'::jsonb;
alter table access.users add column team_roles jsonb not null default '{}'::jsonb;

alter table dags.dags add column team text null references access.teams (name);
alter table workers.connections add column team text null references access.teams (name);
alter table workers.variables add column team text null references access.teams (name);
alter table notifications.channels add column team text null references access.teams (name);
alter table notifications.monitors add column team text null references access.teams (name);

create index ix_dags_team on dags.dags (team) where team is not null;
