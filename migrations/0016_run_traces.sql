-- The W3C traceparent of a run: its trace id (one trace per run) and the span of its
-- creation, the parent of every attempt's span. Null for runs created before tracing.
alter table runs.dag_runs add column traceparent text;
