-- obank schema, SQLite dialect. Keep in step with postgres/migrations.
-- Times are INTEGER unix microseconds (UTC), amounts INTEGER minor units with
-- a TEXT currency, nested optional structures JSON TEXT (NULL when absent).

CREATE TABLE customers (
	id              TEXT PRIMARY KEY,
	username        TEXT NOT NULL,
	password_hash   TEXT NOT NULL,
	party_number    TEXT NOT NULL,
	party_type      TEXT NOT NULL,
	name            TEXT NOT NULL,
	full_legal_name TEXT NOT NULL,
	legal_structure TEXT NOT NULL,
	email           TEXT NOT NULL,
	phone           TEXT NOT NULL,
	mobile          TEXT NOT NULL,
	address         TEXT,
	created_at      INTEGER NOT NULL
);
-- Login names are unique; customers without one cannot log in.
CREATE UNIQUE INDEX customers_username ON customers (username) WHERE username <> '';

CREATE TABLE accounts (
	id                TEXT PRIMARY KEY,
	customer_id       TEXT NOT NULL REFERENCES customers (id),
	status            TEXT NOT NULL,
	status_updated_at INTEGER NOT NULL,
	currency          TEXT NOT NULL,
	type              TEXT NOT NULL,
	sub_type          TEXT NOT NULL,
	description       TEXT NOT NULL,
	nickname          TEXT NOT NULL,
	opening_date      INTEGER NOT NULL,
	maturity_date     INTEGER,
	switch_status     TEXT NOT NULL,
	identifications   TEXT,
	servicer          TEXT,
	product_id        TEXT NOT NULL,
	created_at        INTEGER NOT NULL
);
CREATE INDEX accounts_customer ON accounts (customer_id, id);

CREATE TABLE account_holders (
	account_id   TEXT NOT NULL REFERENCES accounts (id),
	customer_id  TEXT NOT NULL REFERENCES customers (id),
	party_type   TEXT NOT NULL,
	account_role TEXT NOT NULL,
	PRIMARY KEY (account_id, customer_id)
);
CREATE INDEX account_holders_customer ON account_holders (customer_id);

CREATE TABLE balances (
	account_id   TEXT NOT NULL REFERENCES accounts (id),
	type         TEXT NOT NULL,
	date_time    INTEGER NOT NULL,
	amount_minor INTEGER NOT NULL,
	currency     TEXT NOT NULL,
	credit_lines TEXT,
	PRIMARY KEY (account_id, type, date_time)
);

-- seq is the rowid: the insertion order that freezes a paginated listing
-- (TxCursor.Snapshot). Rows are never deleted, so it is never reused.
CREATE TABLE transactions (
	seq          INTEGER PRIMARY KEY,
	id           TEXT NOT NULL UNIQUE,
	account_id   TEXT NOT NULL REFERENCES accounts (id),
	booking_time INTEGER NOT NULL,
	amount_minor INTEGER NOT NULL,
	-- Everything else (reference, status, mutability, value time,
	-- information, address line, currency, category and the optional parts:
	-- codes, balance, merchant, card, counterparties, statement references)
	-- in one compact exact encoding; see internal/sqlstore/txparts.go. No
	-- query filters or orders on them, and one column instead of a dozen,
	-- with no JSON, keeps reading a page cheap.
	parts        TEXT NOT NULL
);
-- The keyset pagination index: one range scan per account, in page order.
-- amount_minor rides along (and seq, the rowid, always does) so that the
-- COUNT and MIN/MAX of a page, credit/debit filter included, read the index
-- alone.
CREATE INDEX transactions_account_time ON transactions (account_id, booking_time, id, amount_minor);

-- Per-account, per-side statistics of transactions, kept in the same database
-- transaction as every insert, so that a page whose bounds cover the
-- account's range reads its Total and FirstAvailable/LastAvailable here
-- instead of scanning the account's whole index range. credit is 1 for
-- amount_minor >= 0 and 0 for debits.
CREATE TABLE transaction_stats (
	account_id  TEXT NOT NULL REFERENCES accounts (id),
	credit      INTEGER NOT NULL,
	n           INTEGER NOT NULL,
	first_time  INTEGER NOT NULL,
	last_time   INTEGER NOT NULL,
	PRIMARY KEY (account_id, credit)
);

CREATE TABLE beneficiaries (
	account_id       TEXT NOT NULL REFERENCES accounts (id),
	id               TEXT NOT NULL,
	type             TEXT NOT NULL,
	reference        TEXT NOT NULL,
	creditor_agent   TEXT,
	creditor_account TEXT,
	PRIMARY KEY (account_id, id)
);

CREATE TABLE direct_debits (
	account_id                TEXT NOT NULL REFERENCES accounts (id),
	id                        TEXT NOT NULL,
	mandate_identification    TEXT NOT NULL,
	status                    TEXT NOT NULL,
	name                      TEXT NOT NULL,
	previous_payment_time     INTEGER,
	frequency                 TEXT NOT NULL,
	previous_payment_minor    INTEGER,
	previous_payment_currency TEXT,
	PRIMARY KEY (account_id, id)
);

CREATE TABLE standing_orders (
	account_id             TEXT NOT NULL REFERENCES accounts (id),
	id                     TEXT NOT NULL,
	frequency              TEXT NOT NULL,
	reference              TEXT NOT NULL,
	first_payment_time     INTEGER,
	next_payment_time      INTEGER,
	last_payment_time      INTEGER,
	final_payment_time     INTEGER,
	number_of_payments     TEXT NOT NULL,
	status                 TEXT NOT NULL,
	first_payment_minor    INTEGER,
	first_payment_currency TEXT,
	next_payment_minor     INTEGER,
	next_payment_currency  TEXT,
	last_payment_minor     INTEGER,
	last_payment_currency  TEXT,
	final_payment_minor    INTEGER,
	final_payment_currency TEXT,
	creditor_agent         TEXT,
	creditor_account       TEXT,
	PRIMARY KEY (account_id, id)
);

CREATE TABLE scheduled_payments (
	account_id       TEXT NOT NULL REFERENCES accounts (id),
	id               TEXT NOT NULL,
	scheduled_time   INTEGER NOT NULL,
	scheduled_type   TEXT NOT NULL,
	reference        TEXT NOT NULL,
	debtor_reference TEXT NOT NULL,
	amount_minor     INTEGER NOT NULL,
	currency         TEXT NOT NULL,
	creditor_agent   TEXT,
	creditor_account TEXT,
	PRIMARY KEY (account_id, id)
);

CREATE TABLE statements (
	account_id    TEXT NOT NULL REFERENCES accounts (id),
	id            TEXT NOT NULL,
	reference     TEXT NOT NULL,
	type          TEXT NOT NULL,
	start_time    INTEGER NOT NULL,
	end_time      INTEGER NOT NULL,
	creation_time INTEGER NOT NULL,
	detail        TEXT,
	PRIMARY KEY (account_id, id)
);
CREATE INDEX statements_account_start ON statements (account_id, start_time, id);

-- A product id names the bank's product, shared by many accounts.
CREATE TABLE products (
	account_id         TEXT NOT NULL REFERENCES accounts (id),
	id                 TEXT NOT NULL,
	name               TEXT NOT NULL,
	secondary_id       TEXT NOT NULL,
	type               TEXT NOT NULL,
	marketing_state_id TEXT NOT NULL,
	PRIMARY KEY (account_id, id)
);

CREATE TABLE offers (
	account_id      TEXT NOT NULL REFERENCES accounts (id),
	id              TEXT NOT NULL,
	type            TEXT NOT NULL,
	description     TEXT NOT NULL,
	start_time      INTEGER,
	end_time        INTEGER,
	rate            TEXT NOT NULL,
	value           INTEGER,
	term            TEXT NOT NULL,
	url             TEXT NOT NULL,
	amount_minor    INTEGER,
	amount_currency TEXT,
	fee_minor       INTEGER,
	fee_currency    TEXT,
	PRIMARY KEY (account_id, id)
);

-- Grants reference customers loosely: the consent flow owns their lifecycle.
CREATE TABLE access_grants (
	id               TEXT PRIMARY KEY,
	tpp_id           TEXT NOT NULL,
	customer_id      TEXT NOT NULL,
	permissions      TEXT NOT NULL,
	account_ids      TEXT,
	transaction_from INTEGER,
	transaction_to   INTEGER,
	expires_at       INTEGER,
	created_at       INTEGER NOT NULL,
	revoked_at       INTEGER
);

-- Tokens are keyed by the SHA-256 of the bearer value; grant_id is NULL for
-- client-credentials tokens.
CREATE TABLE access_tokens (
	hash            TEXT PRIMARY KEY,
	grant_id        TEXT REFERENCES access_grants (id),
	client_id       TEXT NOT NULL,
	scopes          TEXT,
	cert_thumbprint TEXT NOT NULL,
	created_at      INTEGER NOT NULL,
	expires_at      INTEGER NOT NULL,
	revoked_at      INTEGER
);
CREATE INDEX access_tokens_grant ON access_tokens (grant_id);

CREATE TABLE api_calls (
	seq                 INTEGER PRIMARY KEY,
	interaction_id      TEXT NOT NULL,
	client_id           TEXT NOT NULL,
	grant_id            TEXT NOT NULL,
	method              TEXT NOT NULL,
	route               TEXT NOT NULL,
	status              INTEGER NOT NULL,
	latency_micros      INTEGER NOT NULL,
	fapi_auth_date      TEXT NOT NULL,
	customer_ip_address TEXT NOT NULL,
	customer_user_agent TEXT NOT NULL,
	at                  INTEGER NOT NULL
);
CREATE INDEX api_calls_at ON api_calls (at);
