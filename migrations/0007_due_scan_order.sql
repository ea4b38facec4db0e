-- The due-run scan reads due DAGs in batches ordered by (next_run_at, id), continuing after
-- the last one read, so several batches of a minute with 10,000 DAGs due can be worked on
-- at once. The index serves that order without sorting every due row for each batch.
create index ix_dags_due_order on dags.dags (next_run_at, id) where next_run_at is not null and not paused;
drop index dags.ix_dags_due;
