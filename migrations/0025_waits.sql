-- Waits (task type wait, docs/scheduling.md) and the DAG-level run timeout (docs/authoring.md).
-- A waiting task holds no worker slot: it is parked here with its wake-up time in not_before
-- (the next poke, the instant waited for, or its timeout, whichever is first; null for a
-- signal wait without a timeout). wait_deadline is fixed when the attempt first parks
-- (attempt start + the task's timeout); wait_poke says the wake-up is an http poke (the task
-- is requeued for one short attempt) rather than the end of the wait.
alter table runs.task_instances drop constraint if exists task_instances_state_check;
alter table runs.task_instances add constraint task_instances_state_check
    check (state in ('pending', 'queued', 'running', 'waiting', 'success', 'failed', 'up_for_retry', 'upstream_failed', 'skipped', 'cancelled'));
alter table runs.task_instances
    add column if not exists wait_deadline timestamptz null,
    add column if not exists wait_poke boolean not null default false;
-- The scheduler loop's one scan for due wake-ups.
create index if not exists ix_task_instances_waiting on runs.task_instances (not_before) where state = 'waiting';

-- run_timeout: the DAG's timeout pinned at creation; a run still going run_timeout after it
-- started is failed with reason. Only running runs with a timeout are in the index.
alter table runs.dag_runs
    add column if not exists run_timeout interval null,
    add column if not exists reason text null;
create index if not exists ix_dag_runs_timeout on runs.dag_runs (started_at) where run_timeout is not null and state = 'running';
