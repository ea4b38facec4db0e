-- Authoring (issue 16): task outputs and variables.
-- An attempt's output: one JSON value of at most 1 MiB (the worker enforces the cap). Kept
-- with the attempt, so it goes when the run is purged.
alter table runs.task_attempts add column output jsonb null;

-- Variables for templates (vars.<name>). A secret's value is encrypted with Data Protection
-- (the key ring of workers.data_protection_keys) and never returned; others are JSON text.
create table workers.variables (
    name        text primary key,
    value       text not null,
    secret      boolean not null,
    description text null,
    created_at  timestamptz not null,
    updated_at  timestamptz not null
);
