-- The cluster's figures per minute for the dashboard's sparklines: attempts finished (each
-- replica adds what it recorded) and the queue depth (the largest any replica sampled).
-- Two days are kept; a row a minute.
create table runs.minute_figures (
    minute timestamptz primary key,
    tasks_finished bigint not null default 0,
    queued_tasks bigint not null default 0
);
