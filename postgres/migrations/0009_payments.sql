-- Payment orders, their executions, the account-identification index and
-- funds confirmations (payments.PaymentStore), PostgreSQL dialect. Keep in
-- step with sqlite/migrations/0009_payments.sql. Conventions as in 0001
-- (identifiers COLLATE "C"): times are BIGINT unix microseconds (UTC),
-- amounts BIGINT minor units with a TEXT currency, nested structures JSON
-- TEXT, flags SMALLINT 0/1.

-- One row per payment order (domestic payment, scheduled payment, standing
-- order), created by consuming its consent: consent_id is UNIQUE, so a
-- consent can never yield two orders. initiation is the JSON of the typed
-- Initiation of its kind, assessment the JSON of the fraud score (NULL when
-- none). next_run_at is when the scheduler must execute the order next,
-- NULL when nothing is due; runs_done counts its executions.
CREATE TABLE payments (
	id                 TEXT COLLATE "C" PRIMARY KEY,
	kind               TEXT NOT NULL,
	consent_id         TEXT COLLATE "C" NOT NULL UNIQUE REFERENCES consents (id),
	tpp_id             TEXT COLLATE "C" NOT NULL,
	customer_id        TEXT COLLATE "C" NOT NULL,
	debtor_account_id  TEXT COLLATE "C" NOT NULL,
	status             TEXT NOT NULL,
	status_reason      TEXT NOT NULL,
	creation_time      BIGINT NOT NULL,
	status_update_time BIGINT NOT NULL,
	initiation         TEXT NOT NULL,
	amount_minor       BIGINT NOT NULL,
	currency           TEXT NOT NULL,
	assessment         TEXT,
	next_run_at        BIGINT,
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
	payment_id   TEXT COLLATE "C" NOT NULL REFERENCES payments (id),
	n            INTEGER NOT NULL,
	entry_id     TEXT COLLATE "C" NOT NULL,
	at           BIGINT NOT NULL,
	amount_minor BIGINT NOT NULL,
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
	scheme         TEXT COLLATE "C" NOT NULL,
	identification TEXT COLLATE "C" NOT NULL,
	account_id     TEXT COLLATE "C" NOT NULL REFERENCES accounts (id),
	PRIMARY KEY (scheme, identification)
);
-- Backfill from the accounts that exist already: accounts.identifications
-- is JSON TEXT of an array of {"scheme", "id", ...} (sqlstore's
-- accountIDJSON). On a shared identification the account with the lowest
-- id wins (DISTINCT ON keeps the first row of each group in ORDER BY
-- order), then the earlier entry of its list.
INSERT INTO account_identifiers (scheme, identification, account_id)
SELECT DISTINCT ON (scheme, identification) scheme, identification, account_id
FROM (
	SELECT CASE e.value->>'scheme'
			WHEN 'SortCodeAccountNumber' THEN 'UK.OBIE.SortCodeAccountNumber'
			WHEN 'IBAN' THEN 'UK.OBIE.IBAN'
			ELSE e.value->>'scheme' END AS scheme,
		upper(e.value->>'id') AS identification, a.id AS account_id, e.n
	FROM accounts a
	CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(a.identifications::jsonb) = 'array'
		THEN a.identifications::jsonb ELSE '[]'::jsonb END) WITH ORDINALITY AS e (value, n)
	WHERE a.identifications IS NOT NULL
) ids
WHERE coalesce(scheme, '') <> '' AND coalesce(identification, '') <> ''
ORDER BY scheme, identification, account_id, n;

-- The answers to CBPIIs' funds checks.
CREATE TABLE funds_confirmations (
	id            TEXT COLLATE "C" PRIMARY KEY,
	consent_id    TEXT COLLATE "C" NOT NULL REFERENCES consents (id),
	tpp_id        TEXT COLLATE "C" NOT NULL,
	creation_time BIGINT NOT NULL,
	reference     TEXT NOT NULL,
	amount_minor  BIGINT NOT NULL,
	currency      TEXT NOT NULL,
	available     SMALLINT NOT NULL
);
CREATE INDEX funds_confirmations_consent ON funds_confirmations (consent_id, creation_time);
