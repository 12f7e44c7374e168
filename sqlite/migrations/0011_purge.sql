-- Indexes for the janitor's purge of ended security records
-- (sqlstore.PurgeExpired), SQLite dialect. Keep in step with
-- postgres/migrations/0011_purge.sql.
--
-- Each index serves one table's rule in internal/sqlstore/purge.go, so a
-- purge that finds nothing to delete reads no table. web_sessions has its
-- index already (0004). On a large existing access_tokens or
-- oauth_refresh_tokens table, the build holds the write lock while it
-- runs, once.

CREATE INDEX oauth_auth_sessions_expires ON oauth_auth_sessions (expires_at);
CREATE INDEX oauth_codes_expires ON oauth_codes (expires_at);
CREATE INDEX oauth_pushed_requests_expires ON oauth_pushed_requests (expires_at);
CREATE INDEX access_tokens_expires ON access_tokens (expires_at);
CREATE INDEX oauth_refresh_tokens_expires ON oauth_refresh_tokens (expires_at);

-- Only rows with no failures are ever purged; rows that still count
-- failures (however old) stay out of the index, so the purge never walks
-- over them.
CREATE INDEX login_failures_idle ON login_failures (updated_at) WHERE failures = 0;

-- Terminal rows by status and the time they ended (acked_at for acked and
-- rejected, delivered_at for delivered; a row has one of them; the purge's
-- WHERE repeats the expression exactly). Not partial: PostgreSQL keeps no
-- statistics on the expression of a partial index and would then guess
-- that most rows match, and scan the table; and with status first, SQLite
-- prefers it to event_outbox_due.
CREATE INDEX event_outbox_done ON event_outbox (status, COALESCE(acked_at, delivered_at));
