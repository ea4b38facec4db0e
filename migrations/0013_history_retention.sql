-- Retention of monitor pings by age (PurgeNotificationHistory): batches are picked oldest
-- first by received_at, which only the per-monitor index covered before.
create index if not exists ix_pings_received on notifications.pings (received_at);
