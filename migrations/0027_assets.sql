-- Assets (issue 17): tasks' outlets record asset events; DAGs scheduled on assets get a run
-- (run_type 'asset') once each of their assets has an event they have not consumed yet.

-- What the catalogue knows of each DAG's assets, kept with its current version: the URIs it is
-- scheduled on, and its tasks' outlets ([{"task", "uri"}]), for the asset list and the scan.
alter table dags.dags add column if not exists schedule_on_assets text[] not null default '{}';
alter table dags.dags add column if not exists outlets jsonb not null default '[]';
-- An asset consumer created, unpaused or given other assets wakes the scheduler loop (its
-- accumulated events may already satisfy it), as a schedule moved earlier does (0007).
drop trigger if exists tr_dags_asset_consumer_inserted on dags.dags;
create trigger tr_dags_asset_consumer_inserted after insert on dags.dags
    for each row when (cardinality(new.schedule_on_assets) > 0 and not new.paused)
    execute function dags.notify_schedule_changed();
drop trigger if exists tr_dags_asset_consumer_changed on dags.dags;
create trigger tr_dags_asset_consumer_changed after update of paused, schedule_on_assets on dags.dags
    for each row when (cardinality(new.schedule_on_assets) > 0 and not new.paused
        and (old.paused or old.schedule_on_assets is distinct from new.schedule_on_assets))
    execute function dags.notify_schedule_changed();

-- The asset scan reads the unpaused consumers on every wake of the loop: a small partial index.
create index if not exists ix_dags_asset_consumers on dags.dags (id) where cardinality(schedule_on_assets) > 0 and not paused;

-- One row per event. Events of one URI are inserted under a transaction advisory lock on that
-- URI, so their ids commit in id order: a consumer's cursor (the last id it consumed) never
-- passes over an event that was still to commit.
create table if not exists runs.asset_events (
    id              bigint generated always as identity primary key,
    uri             text not null,
    extra           jsonb not null default '{}',
    source_dag      text null,
    source_run_id   bigint null,
    source_task_id  text null,
    created_by      text null,
    created_at      timestamptz not null
);
create index if not exists ix_asset_events_uri on runs.asset_events (uri, id);

-- Each URI that has events, with its count and newest event, kept by the events' writer
-- (under the URI's lock), so the asset list reads one row per asset, not every event.
create table if not exists runs.assets (
    uri            text primary key,
    event_count    bigint not null,
    last_event_id  bigint not null,
    first_seen_at  timestamptz not null
);

-- Where each consumer DAG stands on each of its assets: the last event id its asset runs consumed.
create table if not exists runs.asset_cursors (
    dag_id         bigint not null,
    uri            text not null,
    last_event_id  bigint not null,
    primary key (dag_id, uri)
);

-- Each asset run and the events it consumed. (dag_id, serial) is the exactly-once key: the
-- serial is the DAG's previous asset run's plus one, so two replicas deciding on the same
-- condition at once cannot both create a run.
create table if not exists runs.asset_triggers (
    dag_id      bigint not null,
    serial      bigint not null,
    run_id      bigint not null,
    consumed    jsonb not null,
    created_at  timestamptz not null,
    primary key (dag_id, serial)
);
create index if not exists ix_asset_triggers_run on runs.asset_triggers (run_id);
