-- The audit trail (issue 15): one row per change, written in the change's own transaction
-- (Modules/Audit/Contracts/AuditTrail.cs). Append-only: a trigger refuses UPDATE, DELETE and
-- TRUNCATE unless the transaction says why with a setting only the server's own paths set:
-- audit.allow = 'purge' (retention deletes old rows) or 'erase' (erasure rewrites a person's
-- name into a pseudonym). Nothing in the REST API deletes or edits entries.
create schema if not exists audit;

create table if not exists audit.entries (
    id          bigint generated always as identity primary key,
    at          timestamptz not null,
    actor_kind  text not null check (actor_kind in ('api_key', 'user', 'system')),
    actor_id    bigint,
    actor_name  text not null,
    action      text not null,
    target      text not null,
    ip          text,
    details     jsonb not null default '{}'::jsonb
);

create index if not exists ix_audit_at on audit.entries (at);
create index if not exists ix_audit_action on audit.entries (action, id);
create index if not exists ix_audit_target on audit.entries (target text_pattern_ops, id);
create index if not exists ix_audit_actor on audit.entries (actor_name, id);

create or replace function audit.refuse_change() returns trigger language plpgsql as $$
begin
    if tg_op = 'DELETE' and current_setting('audit.allow', true) = 'purge' then
        return old;
    end if;
    if tg_op = 'UPDATE' and current_setting('audit.allow', true) = 'erase' then
        return new;
    end if;
    raise exception 'audit entries are append-only (% refused)', tg_op using errcode = '42501';
end
$$;

drop trigger if exists audit_append_only on audit.entries;
create trigger audit_append_only before update or delete on audit.entries
    for each row execute function audit.refuse_change();

create or replace function audit.refuse_truncate() returns trigger language plpgsql as $$
begin
    raise exception 'audit entries are append-only (TRUNCATE refused)' using errcode = '42501';
end
$$;

drop trigger if exists audit_no_truncate on audit.entries;
create trigger audit_no_truncate before truncate on audit.entries
    for each statement execute function audit.refuse_truncate();

-- Retention's one way through the trigger: at most @batch of the oldest entries before the
-- cutoff, in the caller's statement (its own short transaction). Returns the rows deleted.
create or replace function audit.purge_before(cutoff timestamptz, batch int) returns int language plpgsql as $$
declare
    deleted int;
begin
    perform set_config('audit.allow', 'purge', true);
    delete from audit.entries where id = any(array(
        select id from audit.entries where at < cutoff order by at limit batch));
    get diagnostics deleted = row_count;
    perform set_config('audit.allow', '', true);
    return deleted;
end
$$;
