-- Login failures count for a day (webstore.LoginFailureWindow), so the
-- janitor now deletes a row a day after its last change whatever its
-- count, once its lock has ended (sqlstore purge rule). The index of 0011
-- held only rows with no failures; this one holds all. SQLite dialect; keep
-- in step with postgres/migrations/0013_login_failures_window.sql.
DROP INDEX login_failures_idle;
CREATE INDEX login_failures_updated ON login_failures (updated_at);
