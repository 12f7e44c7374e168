-- Payment orders, their executions, the account-identification index and
-- funds confirmations (payments.PaymentStore), SQLite dialect. Keep in step
-- with postgres/migrations/0009_payments.sql. Conventions as in 0001: times
-- are INTEGER unix microseconds (UTC), amounts INTEGER minor units with a
-- TEXT currency, nested structures JSON TEXT.

-- One row per payment order (domestic payment, scheduled payment, standing
-- order), created by consuming its consent: consent_id is UNIQUE, so a
-- consent can never yield two orders. initiation is the JSON of the typed
-- Initiation of its kind, assessment the JSON of the fraud score (NULL when
-- none). next_run_at is when the scheduler must execute the order next,
-- NULL when nothing is due; runs_done counts its executions.
CREATE TABLE payments (
	id                 TEXT PRIMARY KEY,
	kind               TEXT NOT NULL,
	consent_id         TEXT NOT NULL UNIQUE REFERENCES consents (id),
	tpp_id             TEXT NOT NULL,
	customer_id        TEXT NOT NULL,
	debtor_account_id  TEXT NOT NULL,
	status             TEXT NOT NULL,
	status_reason      TEXT NOT NULL,
	creation_time      INTEGER NOT NULL,
	status_update_time INTEGER NOT NULL,
	initiation         TEXT NOT NULL,
	amount_minor       INTEGER NOT NULL,
	currency           TEXT NOT NULL,
	assessment         TEXT,
	next_run_at        INTEGER,
	runs_done          INTEGER NOT NULL
);
-- The scheduler's scan of due orders (RunDue), oldest first.
CREATE INDEX payments_due ON payments (next_run_at, id) WHERE next_run_at IS NOT NULL;
-- Risk scoring's count of a TPP's recent orders (TPPPaymentStats).
CREATE INDEX payments_tpp ON payments (tpp_id, creation_time);

-- One row per attempt to move an order's money, n counting from 0 within
-- the order. entry_id is the ledger entry's id; a rejected execution has
-- none in the ledger, so it is not a foreign key.
CREATE TABLE payment_executions (
	payment_id   TEXT NOT NULL REFERENCES payments (id),
	n            INTEGER NOT NULL,
	entry_id     TEXT NOT NULL,
	at           INTEGER NOT NULL,
	amount_minor INTEGER NOT NULL,
	currency     TEXT NOT NULL,
	status       TEXT NOT NULL,
	reason       TEXT NOT NULL,
	PRIMARY KEY (payment_id, n)
);

-- The bank's accounts by identification, to recognise a creditor account
-- held at this bank (AccountByIdentification). scheme is the UK.OBIE.* name
-- (legacy un-namespaced names are normalised), identification upper-cased
-- so that lookups ignore case. Filled by Import for every identification of
-- an account; when two accounts share one, the first keeps it.
CREATE TABLE account_identifiers (
	scheme         TEXT NOT NULL,
	identification TEXT NOT NULL,
	account_id     TEXT NOT NULL REFERENCES accounts (id),
	PRIMARY KEY (scheme, identification)
);
-- Backfill from the accounts that exist already: accounts.identifications
-- is a JSON array of {"scheme", "id", ...} (sqlstore's accountIDJSON).
-- Rows are inserted in account id and list order, so on a shared
-- identification the first account wins, as Import does.
INSERT INTO account_identifiers (scheme, identification, account_id)
SELECT CASE json_extract(j.value, '$.scheme')
		WHEN 'SortCodeAccountNumber' THEN 'UK.OBIE.SortCodeAccountNumber'
		WHEN 'IBAN' THEN 'UK.OBIE.IBAN'
		ELSE json_extract(j.value, '$.scheme') END,
	upper(json_extract(j.value, '$.id')), a.id
FROM accounts a, json_each(CASE WHEN json_type(a.identifications) = 'array'
	THEN a.identifications ELSE '[]' END) j
WHERE a.identifications IS NOT NULL
	AND coalesce(json_extract(j.value, '$.scheme'), '') <> ''
	AND coalesce(json_extract(j.value, '$.id'), '') <> ''
ORDER BY a.id, j.key
ON CONFLICT DO NOTHING;

-- The answers to CBPIIs' funds checks.
CREATE TABLE funds_confirmations (
	id            TEXT PRIMARY KEY,
	consent_id    TEXT NOT NULL REFERENCES consents (id),
	tpp_id        TEXT NOT NULL,
	creation_time INTEGER NOT NULL,
	reference     TEXT NOT NULL,
	amount_minor  INTEGER NOT NULL,
	currency      TEXT NOT NULL,
	available     INTEGER NOT NULL
);
CREATE INDEX funds_confirmations_consent ON funds_confirmations (consent_id, creation_time);
