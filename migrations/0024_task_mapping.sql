-- Dynamic task mapping (issue 16, docs/authoring.md "Mapping"). A mapped task keeps its one
-- row (map_index -1): it renders map_over, and once expanded stays 'running' without a worker
-- until every instance has finished, then takes their summary state. Its instances are rows
-- of their own (map_index 0..n-1), each retried, cleared and marked alone; map_item is the
-- element of the rendered array the instance sees as `item`.
alter table runs.task_instances add column if not exists map_index integer not null default -1;
alter table runs.task_instances add column if not exists map_item jsonb null;
alter table runs.task_instances drop constraint if exists uq_task_instances_run_task;
alter table runs.task_instances add constraint uq_task_instances_run_task unique (run_id, task_id, map_index);
