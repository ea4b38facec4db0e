-- Dags module: the catalogue. One row per DAG holds the current version's canonical
-- definition and the schedule state the due-run scan reads; every distinct definition
-- is kept as an immutable version.
create schema if not exists dags;

create table dags.dags (
    id              bigint generated always as identity primary key,
    name            text not null,
    description     text null,
    owner           text null,
    tags            text[] not null default '{}',
    paused          boolean not null default false,
    version         integer not null,
    hash            text not null,
    definition      jsonb not null,
    cron            text null,
    interval_seconds bigint null,
    timezone        text not null default 'UTC',
    task_count      integer not null,
    next_run_at     timestamptz null,
    created_at      timestamptz not null,
    updated_at      timestamptz not null,
    constraint uq_dags_name unique (name)
);

-- The due-run scan reads "next_run_at <= now() and not paused" every second: a partial
-- index keeps that an index range scan however many DAGs are paused or unscheduled.
create index ix_dags_due on dags.dags (next_run_at) where next_run_at is not null and not paused;
create index ix_dags_tags on dags.dags using gin (tags);

create table dags.dag_versions (
    dag_id      bigint not null references dags.dags (id) on delete cascade,
    version     integer not null,
    hash        text not null,
    definition  jsonb not null,
    created_at  timestamptz not null,
    created_by  text null,
    primary key (dag_id, version)
);

-- Access: API keys. Only a SHA-256 of the key is stored (keys are 240-bit random, so a
-- fast hash is enough); the key itself is shown once, at creation.
create schema if not exists access;

create table access.api_keys (
    id          bigint generated always as identity primary key,
    name        text not null,
    role        text not null check (role in ('viewer', 'operator', 'admin')),
    key_hash    bytea not null,
    prefix      text not null,
    created_at  timestamptz not null,
    created_by  text null,
    expires_at  timestamptz null,
    revoked_at  timestamptz null,
    constraint uq_api_keys_hash unique (key_hash)
);
