-- DAG files from git (Dags:Git). A DAG imported from a repository records which one owns it
-- (REST writes are refused while it does) and the file it came from; every version records
-- the commit and path that produced it. A removed file leaves the DAG paused with no path.
alter table dags.dags add column if not exists source_repository text null;
alter table dags.dags add column if not exists source_path text null;
alter table dags.dags add column if not exists source_commit text null;
alter table dags.dag_versions add column if not exists source_commit text null;
alter table dags.dag_versions add column if not exists source_path text null;

-- The last commit fully imported from each repository: a replica that takes the import lock
-- after another finished that commit finds it here and imports nothing.
create table if not exists dags.git_syncs (
    repository  text primary key,
    branch      text not null,
    commit      text not null,
    synced_at   timestamptz not null
);

-- Files of the last imported commit that failed to parse or validate; replaced per commit.
create table if not exists dags.import_errors (
    repository  text not null,
    path        text not null,
    commit      text not null,
    message     text not null,
    errors      jsonb not null default '{}',
    recorded_at timestamptz not null,
    primary key (repository, path)
);
