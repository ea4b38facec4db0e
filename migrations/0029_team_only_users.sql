-- Users of the admin pages may hold team roles only (no global role), as API keys may since
-- 0023: such a user sees and acts on their teams' objects alone (Infrastructure/Auth/TeamAccess.cs).
alter table access.users alter column role drop not null;
