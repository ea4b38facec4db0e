-- Calendars (issue 17): days a DAG does not fire on. The definition is the calendar as sent
-- (canonical JSON); revision comes from a sequence, so "did any calendar change" is one
-- cheap statement (count and max revision) for every replica's cache, whatever its clock.
create sequence if not exists dags.calendar_revisions;
create table if not exists dags.calendars (
    id          bigint generated always as identity primary key,
    name        text not null unique,
    definition  jsonb not null,
    revision    bigint not null default nextval('dags.calendar_revisions'),
    created_at  timestamptz not null,
    updated_at  timestamptz not null
);

-- Backfills: runs for past logical dates, created in bulk and started at most
-- max_active_runs at a time, beside (not instead of) the DAG's scheduled runs.
create table if not exists runs.backfills (
    id               bigint generated always as identity primary key,
    dag_id           bigint not null,
    dag_name         text not null,
    from_date        timestamptz not null,
    to_date          timestamptz not null,
    reprocess        text not null check (reprocess in ('missing', 'failed', 'all')),
    max_active_runs  integer not null,
    state            text not null check (state in ('queued', 'running', 'completed', 'cancelled')),
    total            integer not null,
    created          integer not null,
    created_by       text null,
    created_at       timestamptz not null,
    finished_at      timestamptz null
);
create index if not exists ix_backfills_dag on runs.backfills (dag_name, id desc);
create index if not exists ix_backfills_running on runs.backfills (dag_id) where state in ('queued', 'running');

alter table runs.dag_runs add column if not exists backfill_id bigint null references runs.backfills (id) on delete set null;
create index if not exists ix_dag_runs_backfill on runs.dag_runs (backfill_id, logical_date, id) where backfill_id is not null;

alter table runs.dag_runs drop constraint if exists dag_runs_run_type_check;
alter table runs.dag_runs add constraint dag_runs_run_type_check
    check (run_type in ('scheduled', 'manual', 'catchup', 'backfill', 'asset'));
