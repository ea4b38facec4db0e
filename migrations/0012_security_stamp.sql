-- Sessions of the admin pages end when their user changes: the sign-in cookie carries the
-- user's security stamp, and a changed password or role (or a deleted user) gives the row a
-- new stamp, so every cookie issued before no longer matches. Existing users get a stamp of
-- their own; a cookie issued before this migration carries none and is refused (sign in again).
alter table access.users add column security_stamp text not null default gen_random_uuid()::text;

-- The user who created a key in the admin pages owns it: deleting the user revokes the keys
-- they created. Keys created with another API key (or from configuration) have no owner.
alter table access.api_keys add column created_by_user_id bigint references access.users (id) on delete set null;
create index ix_api_keys_created_by_user on access.api_keys (created_by_user_id) where created_by_user_id is not null;
