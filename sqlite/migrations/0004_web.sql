-- The customer's pages (web sessions, login throttling, TOTP replay
-- protection, the audit trail) and the customers' second factor, SQLite
-- dialect. Keep in step with postgres/migrations/0004_web.sql. Conventions
-- as in 0001: times are INTEGER unix microseconds (UTC).

-- The customer's RFC 6238 TOTP secret, base32; empty = no second factor
-- enrolled (such a customer cannot complete strong authentication).
ALTER TABLE customers ADD COLUMN totp_secret TEXT NOT NULL DEFAULT '';

-- Sessions of the customer's pages. id is the SHA-256 of the cookie value,
-- so the table alone does not let anyone take a session over.
-- auth_session_id is the authorization session being decided ('' for the
-- dashboard); customer_id is set once the password was right, sca_at once
-- the second factor was.
CREATE TABLE web_sessions (
	id              TEXT PRIMARY KEY,
	purpose         TEXT NOT NULL,
	auth_session_id TEXT NOT NULL,
	csrf            TEXT NOT NULL,
	customer_id     TEXT NOT NULL,
	password_at     INTEGER,
	sca_at          INTEGER,
	created_at      INTEGER NOT NULL,
	last_seen_at    INTEGER NOT NULL,
	expires_at      INTEGER NOT NULL
);
CREATE INDEX web_sessions_expires ON web_sessions (expires_at);

-- Failed logins per username (known or not, so the answer does not tell
-- them apart) since the last success or lock.
CREATE TABLE login_failures (
	username     TEXT PRIMARY KEY,
	failures     INTEGER NOT NULL,
	locked_until INTEGER,
	updated_at   INTEGER NOT NULL
);

-- The last TOTP time step each customer used: a code is accepted once.
CREATE TABLE totp_steps (
	customer_id TEXT PRIMARY KEY,
	last_step   INTEGER NOT NULL
);

-- What customers did at the bank that a TPP or an auditor may ask about
-- (e.g. revoking a TPP's access from the dashboard).
CREATE TABLE audit_events (
	id          TEXT PRIMARY KEY,
	at          INTEGER NOT NULL,
	kind        TEXT NOT NULL,
	customer_id TEXT NOT NULL,
	consent_id  TEXT NOT NULL,
	client_id   TEXT NOT NULL,
	detail      TEXT NOT NULL
);
CREATE INDEX audit_events_customer ON audit_events (customer_id, at);

-- The dashboard's "last access" reads the newest call per grant.
CREATE INDEX api_calls_grant ON api_calls (grant_id, at);
