-- `GET /dags?q=` matches a fragment anywhere in the name (ILIKE '%q%'), which a b-tree cannot
-- serve: with 100,000 DAGs each search read every row (45.7 ms p95, growing with the
-- catalogue). A trigram GIN index serves ILIKE on any fragment of three or more characters.
-- pg_trgm ships with PostgreSQL's contrib package and is a trusted extension, so a database
-- owner may create it; where it cannot be had, the search still works, unindexed.
do $$
begin
    create extension if not exists pg_trgm;
exception when others then
    raise notice 'pg_trgm is not available (%); DAG name search stays unindexed', sqlerrm;
end $$;

do $$
begin
    if exists (select 1 from pg_extension where extname = 'pg_trgm') then
        create index if not exists ix_dags_name_trgm on dags.dags using gin (name gin_trgm_ops);
    end if;
end $$;
