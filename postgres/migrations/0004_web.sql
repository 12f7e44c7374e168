-- The customer's pages (web sessions, login throttling, TOTP replay
-- protection, the audit trail) and the customers' second factor, PostgreSQL
-- dialect. Keep in step with sqlite/migrations/0004_web.sql. Conventions
-- as in 0001 (identifiers COLLATE "C"): times are BIGINT unix microseconds
-- (UTC).

-- The customer's RFC 6238 TOTP secret, base32; empty = no second factor
-- enrolled (such a customer cannot complete strong authentication).
ALTER TABLE customers ADD COLUMN totp_secret TEXT NOT NULL DEFAULT '';

-- Sessions of the customer's pages. id is the SHA-256 of the cookie value,
-- so the table alone does not let anyone take a session over.
-- auth_session_id is the authorization session being decided ('' for the
-- dashboard); customer_id is set once the password was right, sca_at once
-- the second factor was.
CREATE TABLE web_sessions (
	id              TEXT COLLATE "C" PRIMARY KEY,
	purpose         TEXT NOT NULL,
	auth_session_id TEXT COLLATE "C" NOT NULL,
	csrf            TEXT NOT NULL,
	customer_id     TEXT COLLATE "C" NOT NULL,
	password_at     BIGINT,
	sca_at          BIGINT,
	created_at      BIGINT NOT NULL,
	last_seen_at    BIGINT NOT NULL,
	expires_at      BIGINT NOT NULL
);
CREATE INDEX web_sessions_expires ON web_sessions (expires_at);

-- Failed logins per username (known or not, so the answer does not tell
-- them apart) since the last success or lock.
CREATE TABLE login_failures (
	username     TEXT COLLATE "C" PRIMARY KEY,
	failures     BIGINT NOT NULL,
	locked_until BIGINT,
	updated_at   BIGINT NOT NULL
);

-- The last TOTP time step each customer used: a code is accepted once.
CREATE TABLE totp_steps (
	customer_id TEXT COLLATE "C" PRIMARY KEY,
	last_step   BIGINT NOT NULL
);

-- What customers did at the bank that a TPP or an auditor may ask about
-- (e.g. revoking a TPP's access from the dashboard).
CREATE TABLE audit_events (
	id          TEXT COLLATE "C" PRIMARY KEY,
	at          BIGINT NOT NULL,
	kind        TEXT NOT NULL,
	customer_id TEXT COLLATE "C" NOT NULL,
	consent_id  TEXT COLLATE "C" NOT NULL,
	client_id   TEXT COLLATE "C" NOT NULL,
	detail      TEXT NOT NULL
);
CREATE INDEX audit_events_customer ON audit_events (customer_id, at);

-- The dashboard's "last access" reads the newest call per grant.
CREATE INDEX api_calls_grant ON api_calls (grant_id, at);
