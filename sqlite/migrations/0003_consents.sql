-- Consents (ob.ConsentStore), SQLite dialect. Keep in step with
-- postgres/migrations/0003_consents.sql. Conventions as in 0001: times are
-- INTEGER unix microseconds (UTC), lists JSON TEXT (NULL for a nil Go
-- slice), raw bytes BLOB (NULL when empty).

-- One row per consent of any kind. customer_id is '' until the consent is
-- authorised; permissions are space-separated codes; deleted_at is the
-- TPP's soft delete. The authorised consent's access grant lives in
-- access_grants under the same id.
CREATE TABLE consents (
	id                      TEXT PRIMARY KEY,
	kind                    TEXT NOT NULL,
	tpp_id                  TEXT NOT NULL,
	status                  TEXT NOT NULL,
	creation_date_time      INTEGER NOT NULL,
	status_update_date_time INTEGER NOT NULL,
	permissions             TEXT NOT NULL,
	expiration_date_time    INTEGER,
	transaction_from        INTEGER,
	transaction_to          INTEGER,
	customer_id             TEXT NOT NULL,
	account_ids             TEXT,
	deleted_at              INTEGER,
	payload                 BLOB
);
-- The customer's dashboard, newest first.
CREATE INDEX consents_customer ON consents (customer_id, creation_date_time);
-- The expiry sweeper: live consents by expiry.
CREATE INDEX consents_status_expiry ON consents (status, expiration_date_time);
