-- Runs module: runs, task instances, attempts, dead letters, pools.
create schema if not exists runs;

-- A run pins the DAG version it was created from. (dag_id, logical_date) is the
-- idempotency key of run creation: a duplicate firing of the scheduler is a no-op.
-- unfinished_tasks / failed_tasks are maintained under the run's row lock by every task
-- transition, so "is the run over?" never needs a scan of its task instances.
create table runs.dag_runs (
    id                bigint generated always as identity primary key,
    dag_id            bigint not null,
    dag_name          text not null,
    dag_version       integer not null,
    logical_date      timestamptz not null,
    run_type          text not null check (run_type in ('scheduled', 'manual', 'catchup')),
    state             text not null check (state in ('queued', 'running', 'success', 'failed', 'cancelled')),
    conf              jsonb not null default '{}',
    params            jsonb not null default '{}',
    max_active_tasks  integer null,
    unfinished_tasks  integer not null,
    failed_tasks      integer not null default 0,
    created_by        text null,
    queued_at         timestamptz not null,
    started_at        timestamptz null,
    finished_at       timestamptz null,
    constraint uq_dag_runs_logical_date unique (dag_id, logical_date)
);
create index ix_dag_runs_history on runs.dag_runs (dag_name, logical_date desc, id desc);
create index ix_dag_runs_active on runs.dag_runs (dag_id, queued_at) where state in ('queued', 'running');

-- constrained: the task is in a limited pool or its run caps active tasks; such tasks are
-- claimed on a slower path that counts slots, everything else on the one-statement path.
create table runs.task_instances (
    id                bigint generated always as identity primary key,
    run_id            bigint not null references runs.dag_runs (id) on delete cascade,
    task_id           text not null,
    state             text not null check (state in ('pending', 'queued', 'running', 'success', 'failed', 'up_for_retry', 'upstream_failed', 'skipped', 'cancelled')),
    attempt           integer not null default 0,
    max_attempts      integer not null,
    priority          integer not null default 0,
    pool              text not null default 'default',
    constrained       boolean not null default false,
    queued_at         timestamptz null,
    not_before        timestamptz null,
    started_at        timestamptz null,
    finished_at       timestamptz null,
    worker_id         text null,
    lease_expires_at  timestamptz null,
    constraint uq_task_instances_run_task unique (run_id, task_id)
);
-- The claim reads the head of this index: priority, then queue time. Partial, so a table
-- holding millions of finished task instances keeps the claim an index scan over the queue.
create index ix_task_instances_queue on runs.task_instances (priority desc, queued_at, id) where state = 'queued' and not constrained;
create index ix_task_instances_queue_constrained on runs.task_instances (priority desc, queued_at, id) where state = 'queued' and constrained;
create index ix_task_instances_retry on runs.task_instances (not_before) where state = 'up_for_retry';
create index ix_task_instances_lease on runs.task_instances (lease_expires_at) where state = 'running';
create index ix_task_instances_worker on runs.task_instances (worker_id) where state = 'running';

-- One row per attempt; a delivery lost with its worker is re-run under the same attempt
-- number (same idempotency key), and the row records how many deliveries it took.
create table runs.task_attempts (
    task_instance_id  bigint not null references runs.task_instances (id) on delete cascade,
    attempt           integer not null,
    run_id            bigint not null,
    task_id           text not null,
    worker_id         text null,
    state             text not null,
    deliveries        integer not null default 1,
    started_at        timestamptz not null,
    finished_at       timestamptz null,
    code              integer null,
    error             text null,
    log               text not null default '',
    primary key (task_instance_id, attempt)
);

create table runs.dead_letters (
    id                bigint generated always as identity primary key,
    task_instance_id  bigint not null references runs.task_instances (id) on delete cascade,
    run_id            bigint not null,
    dag_name          text not null,
    task_id           text not null,
    attempts          integer not null,
    error             text null,
    created_at        timestamptz not null,
    requeued_at       timestamptz null
);
create index ix_dead_letters_open on runs.dead_letters (id desc) where requeued_at is null;

-- Named pools cap how many of their tasks run at once across all replicas.
-- 'default' has no cap (slots null).
create table runs.pools (
    name        text primary key,
    slots       integer null check (slots is null or slots >= 0),
    description text null
);
insert into runs.pools (name, slots, description) values ('default', null, 'Tasks without a pool; no cap beyond each worker''s slots.');

-- Workers module: the live worker nodes (one per replica process).
create schema if not exists workers;
create table workers.nodes (
    id            text primary key,
    host          text not null,
    pid           integer not null,
    slots         integer not null,
    running       integer not null default 0,
    started_at    timestamptz not null,
    heartbeat_at  timestamptz not null,
    stopping      boolean not null default false
);
