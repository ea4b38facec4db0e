-- Notifications module: channels, global rules, the event outbox, deliveries, monitors.
create schema if not exists notifications;

-- A channel is where messages go. settings holds the fields that may be shown; secret holds
-- the Data Protection ciphertext of a JSON object with the secret fields (webhook URLs,
-- tokens, passwords), which the API never returns. secret_fields names them.
create table notifications.channels (
    id                 bigint generated always as identity primary key,
    name               text not null unique,
    type               text not null check (type in ('slack', 'teams', 'email', 'sms', 'webhook')),
    settings           jsonb not null default '{}',
    secret             text null,
    secret_fields      text[] not null default '{}',
    digest_cron        text null,
    digest_timezone    text null,
    digest_next_at     timestamptz null,
    digest_message_ref text null,
    created_at         timestamptz not null,
    updated_at         timestamptz not null
);
create index ix_channels_digest on notifications.channels (digest_next_at) where digest_next_at is not null;

-- Rules that apply to every DAG, on top of each DAG's own `notifications`.
create table notifications.global_rules (
    position  integer primary key,
    events    text[] not null,
    channel   text not null
);

-- The outbox: written in the same transaction as the state change it reports (run and task
-- transitions, SLA misses, monitor state changes). dedup_key makes a repeated write a no-op.
-- The dispatcher turns each row into one delivery per matching channel, then stamps it.
create table notifications.events (
    id             bigint generated always as identity primary key,
    kind           text not null,
    dedup_key      text not null unique,
    dag_name       text null,
    run_id         bigint null,
    task_id        text null,
    attempt        integer null,
    monitor_id     bigint null,
    channel_id     bigint null,
    detail         text null,
    occurred_at    timestamptz not null default now(),
    dispatched_at  timestamptz null
);
create index ix_events_undispatched on notifications.events (id) where dispatched_at is null;
create index ix_events_occurred on notifications.events (occurred_at);

-- One message of one event to one channel: the unique key is the deduplication.
create table notifications.deliveries (
    id               bigint generated always as identity primary key,
    event_id         bigint not null references notifications.events (id) on delete cascade,
    channel_id       bigint not null references notifications.channels (id) on delete cascade,
    status           text not null check (status in ('pending', 'delivered', 'failed')),
    attempts         integer not null default 0,
    last_error       text null,
    created_at       timestamptz not null default now(),
    next_attempt_at  timestamptz null,
    delivered_at     timestamptz null,
    job_id           text null,
    constraint uq_deliveries_event_channel unique (event_id, channel_id)
);
create index ix_deliveries_pending on notifications.deliveries (created_at) where status = 'pending';
create index ix_deliveries_channel on notifications.deliveries (channel_id, id desc);

-- Monitors of external jobs: they ping; a missing ping by deadline_at (expected_at plus
-- grace) makes the monitor late. token_hash is the SHA-256 of the ping token.
create table notifications.monitors (
    id               bigint generated always as identity primary key,
    name             text not null unique,
    description      text null,
    cron             text null,
    interval_seconds bigint null,
    timezone         text not null default 'UTC',
    grace_seconds    bigint not null,
    channels         text[] not null default '{}',
    token_hash       text not null,
    state            text not null check (state in ('new', 'up', 'running', 'late', 'failed')),
    paused           boolean not null default false,
    expected_at      timestamptz null,
    deadline_at      timestamptz null,
    last_ping_at     timestamptz null,
    last_start_at    timestamptz null,
    last_success_at  timestamptz null,
    last_failure_at  timestamptz null,
    created_at       timestamptz not null,
    updated_at       timestamptz not null,
    check ((cron is null) <> (interval_seconds is null))
);
create index ix_monitors_deadline on notifications.monitors (deadline_at) where deadline_at is not null and not paused;

create table notifications.pings (
    id           bigint generated always as identity primary key,
    monitor_id   bigint not null references notifications.monitors (id) on delete cascade,
    kind         text not null check (kind in ('start', 'success', 'fail')),
    received_at  timestamptz not null,
    duration_ms  bigint null,
    message      text null,
    late         boolean not null default false
);
create index ix_pings_monitor on notifications.pings (monitor_id, id desc);

-- Runs: the SLA deadline of a run (its due time plus the DAG's sla), and when it was missed.
alter table runs.dag_runs add column sla_deadline timestamptz null, add column sla_missed_at timestamptz null;
create index ix_dag_runs_sla on runs.dag_runs (sla_deadline) where sla_missed_at is null and state in ('queued', 'running');
