-- Idempotency keys of PIS POSTs (sqlstore.WithIdempotency), PostgreSQL dialect.
-- Keep in step with sqlite/migrations/0007_idempotency.sql. Conventions as
-- in 0001: times are BIGINT unix microseconds (UTC).

-- One row per (TPP, x-idempotency-key), written in the same transaction as
-- the resource it created, so a key never outlives a rolled-back resource
-- and a resource never lacks its key. request_hash is the hex SHA-256 of the
-- request body; resource_kind the kind of resource (a key reused on another
-- endpoint is a mismatch); response the response body and status the HTTP
-- status answered when it was created. A row whose expires_at has passed
-- (24 h) no longer binds the key: the next request with it replaces the
-- row.
CREATE TABLE idempotency_keys (
	tpp_id        TEXT COLLATE "C" NOT NULL,
	key           TEXT COLLATE "C" NOT NULL,
	request_hash  TEXT NOT NULL,
	resource_kind TEXT NOT NULL,
	resource_id   TEXT NOT NULL,
	response      BYTEA,
	status        INTEGER NOT NULL,
	created_at    BIGINT NOT NULL,
	expires_at    BIGINT NOT NULL,
	PRIMARY KEY (tpp_id, key)
);
-- The janitor's sweep of expired keys.
CREATE INDEX idempotency_keys_expires ON idempotency_keys (expires_at);
