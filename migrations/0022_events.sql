-- The event log of GET /api/v1/events/stream (and gRPC RunService.Watch): run and task state
-- changes, one multi-row insert per engine transaction. tx is the writing transaction's id:
-- readers take only rows of transactions older than every one still running
-- (pg_snapshot_xmin), in (tx, id) order, so a row committed late is never skipped.
-- Purged by the retention job after Events:RetentionHours (default 24).
create table if not exists runs.events (
    id       bigint generated always as identity,
    tx       xid8 not null default pg_current_xact_id(),
    at       timestamptz not null default now(),
    dag      text not null,
    run_id   bigint not null,
    task_id  text null,
    state    text not null,
    primary key (id)
);
create index if not exists ix_events_tx on runs.events (tx, id);
create index if not exists ix_events_at on runs.events (at);
