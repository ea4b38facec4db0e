-- A mapped task's instances in the event log (GET /events/stream, gRPC RunService.Watch):
-- map_index is the instance's index (0..n-1), null for a run, an unmapped task or a mapped
-- task's own row. Nullable without a default: adding it rewrites nothing.
alter table runs.events add column if not exists map_index integer null;
