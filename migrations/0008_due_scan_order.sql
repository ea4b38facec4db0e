-- The due-run scan reads due DAGs in batches ordered by (next_run_at, id), continuing after
-- the last one read, so several batches of a minute with 10,000 DAGs due can be worked on
-- at once. The index serves that order without sorting every due row for each batch.
create index if not exists ix_dags_due_order on dags.dags (next_run_at, id) where next_run_at is not null and not paused;
drop index if exists dags.ix_dags_due;
-- ("if not exists": a development database may have it from this file's first name, 0007_due_scan_order.)
