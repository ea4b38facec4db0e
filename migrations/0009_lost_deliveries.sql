-- How many deliveries of an attempt lost their worker (the lease expired) and were requeued.
-- The reaper fails the task instead once one more would reach Workers:MaxDeliveries; deliveries also
-- counts hand-backs on graceful shutdown, which must not use up a task's chances.
alter table runs.task_attempts add column if not exists lost_deliveries integer not null default 0;
