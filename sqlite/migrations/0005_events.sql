-- Event notifications (package events), SQLite dialect. Keep in step with
-- postgres/migrations/0005_events.sql. Conventions as in 0001: times are
-- INTEGER unix microseconds (UTC), lists JSON TEXT (NULL for "all").

-- A TPP's event subscription: at most one per TPP (the UNIQUE tpp_id is
-- what answers a second POST with 409). callback_url is '' for polling
-- only.
CREATE TABLE event_subscriptions (
	id           TEXT PRIMARY KEY,
	tpp_id       TEXT NOT NULL UNIQUE,
	callback_url TEXT NOT NULL,
	version      TEXT NOT NULL,
	event_types  TEXT,
	created_at   INTEGER NOT NULL,
	updated_at   INTEGER NOT NULL
);

-- The outbox: one row per event per TPP, kept until delivered,
-- acknowledged or rejected (and then as a record). claims is the SET claim
-- set (JSON); status is pending (to push), polling, delivered, failed
-- (pushes exhausted, kept for polling), acked or rejected. locked_until is
-- a deliverer's lease.
CREATE TABLE event_outbox (
	jti                 TEXT PRIMARY KEY,
	tpp_id              TEXT NOT NULL,
	event_type          TEXT NOT NULL,
	claims              TEXT NOT NULL,
	callback_url        TEXT NOT NULL,
	status              TEXT NOT NULL,
	attempts            INTEGER NOT NULL,
	next_attempt_at     INTEGER NOT NULL,
	locked_until        INTEGER,
	last_error          TEXT NOT NULL,
	set_err             TEXT NOT NULL,
	set_err_description TEXT NOT NULL,
	created_at          INTEGER NOT NULL,
	delivered_at        INTEGER,
	acked_at            INTEGER
);
-- The deliverer's claim: due pending rows.
CREATE INDEX event_outbox_due ON event_outbox (status, next_attempt_at);
-- Polling: a TPP's outstanding rows, oldest first.
CREATE INDEX event_outbox_tpp ON event_outbox (tpp_id, status, created_at);
