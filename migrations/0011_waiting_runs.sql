-- Runs waiting for their DAG's max_active_runs: probed without a lock after every run end
-- (does this DAG have any?), read oldest first when one may start, and swept by the
-- scheduler loop's maintenance. Few rows, so the partial index stays tiny.
create index if not exists ix_dag_runs_waiting on runs.dag_runs (dag_id, logical_date, id) where state = 'queued';
