-- Consents (ob.ConsentStore), PostgreSQL dialect. Keep in step with
-- sqlite/migrations/0003_consents.sql. Conventions as in 0001 (identifiers
-- COLLATE "C" so they compare bytewise, as on SQLite): times are BIGINT unix
-- microseconds (UTC), lists JSON TEXT (NULL for a nil Go slice), raw bytes
-- BYTEA (NULL when empty).

-- One row per consent of any kind. customer_id is '' until the consent is
-- authorised; permissions are space-separated codes; deleted_at is the
-- TPP's soft delete. The authorised consent's access grant lives in
-- access_grants under the same id.
CREATE TABLE consents (
	id                      TEXT COLLATE "C" PRIMARY KEY,
	kind                    TEXT NOT NULL,
	tpp_id                  TEXT COLLATE "C" NOT NULL,
	status                  TEXT NOT NULL,
	creation_date_time      BIGINT NOT NULL,
	status_update_date_time BIGINT NOT NULL,
	permissions             TEXT NOT NULL,
	expiration_date_time    BIGINT,
	transaction_from        BIGINT,
	transaction_to          BIGINT,
	customer_id             TEXT COLLATE "C" NOT NULL,
	account_ids             TEXT,
	deleted_at              BIGINT,
	payload                 BYTEA
);
-- The customer's dashboard, newest first.
CREATE INDEX consents_customer ON consents (customer_id, creation_date_time);
-- The expiry sweeper: live consents by expiry.
CREATE INDEX consents_status_expiry ON consents (status, expiration_date_time);
