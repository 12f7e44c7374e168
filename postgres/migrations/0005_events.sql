-- Event notifications (package events), PostgreSQL dialect. Keep in step with
-- sqlite/migrations/0005_events.sql. Conventions as in 0001: times are
-- BIGINT unix microseconds (UTC), lists JSON TEXT (NULL for "all").

-- A TPP's event subscription: at most one per TPP (the UNIQUE tpp_id is
-- what answers a second POST with 409). callback_url is '' for polling
-- only.
CREATE TABLE event_subscriptions (
	id           TEXT COLLATE "C" PRIMARY KEY,
	tpp_id       TEXT COLLATE "C" NOT NULL UNIQUE,
	callback_url TEXT NOT NULL,
	version      TEXT NOT NULL,
	event_types  TEXT,
	created_at   BIGINT NOT NULL,
	updated_at   BIGINT NOT NULL
);

-- The outbox: one row per event per TPP, kept until delivered,
-- acknowledged or rejected (and then as a record). claims is the SET claim
-- set (JSON); status is pending (to push), polling, delivered, failed
-- (pushes exhausted, kept for polling), acked or rejected. locked_until is
-- a deliverer's lease.
CREATE TABLE event_outbox (
	jti                 TEXT COLLATE "C" PRIMARY KEY,
	tpp_id              TEXT COLLATE "C" NOT NULL,
	event_type          TEXT NOT NULL,
	claims              TEXT NOT NULL,
	callback_url        TEXT NOT NULL,
	status              TEXT NOT NULL,
	attempts            INTEGER NOT NULL,
	next_attempt_at     BIGINT NOT NULL,
	locked_until        BIGINT,
	last_error          TEXT NOT NULL,
	set_err             TEXT NOT NULL,
	set_err_description TEXT NOT NULL,
	created_at          BIGINT NOT NULL,
	delivered_at        BIGINT,
	acked_at            BIGINT
);
-- The deliverer's claim: due pending rows.
CREATE INDEX event_outbox_due ON event_outbox (status, next_attempt_at);
-- Polling: a TPP's outstanding rows, oldest first.
CREATE INDEX event_outbox_tpp ON event_outbox (tpp_id, status, created_at);
