-- obank schema, PostgreSQL dialect. Keep in step with sqlite/migrations.
-- Identifiers that are ordered on are COLLATE "C" so that PostgreSQL orders
-- them bytewise, like SQLite and Go, whatever the database's locale.
-- Times are BIGINT unix microseconds (UTC), amounts BIGINT minor units with
-- a TEXT currency, nested optional structures JSON TEXT (NULL when absent).

CREATE TABLE customers (
	id              TEXT COLLATE "C" PRIMARY KEY,
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
	created_at      BIGINT NOT NULL
);
-- Login names are unique; customers without one cannot log in.
CREATE UNIQUE INDEX customers_username ON customers (username) WHERE username <> '';

CREATE TABLE accounts (
	id                TEXT COLLATE "C" PRIMARY KEY,
	customer_id       TEXT COLLATE "C" NOT NULL REFERENCES customers (id),
	status            TEXT NOT NULL,
	status_updated_at BIGINT NOT NULL,
	currency          TEXT NOT NULL,
	type              TEXT NOT NULL,
	sub_type          TEXT NOT NULL,
	description       TEXT NOT NULL,
	nickname          TEXT NOT NULL,
	opening_date      BIGINT NOT NULL,
	maturity_date     BIGINT,
	switch_status     TEXT NOT NULL,
	identifications   TEXT,
	servicer          TEXT,
	product_id        TEXT NOT NULL,
	created_at        BIGINT NOT NULL
);
CREATE INDEX accounts_customer ON accounts (customer_id, id);

CREATE TABLE account_holders (
	account_id   TEXT COLLATE "C" NOT NULL REFERENCES accounts (id),
	customer_id  TEXT COLLATE "C" NOT NULL REFERENCES customers (id),
	party_type   TEXT NOT NULL,
	account_role TEXT NOT NULL,
	PRIMARY KEY (account_id, customer_id)
);
CREATE INDEX account_holders_customer ON account_holders (customer_id);

CREATE TABLE balances (
	account_id   TEXT COLLATE "C" NOT NULL REFERENCES accounts (id),
	type         TEXT COLLATE "C" NOT NULL,
	date_time    BIGINT NOT NULL,
	amount_minor BIGINT NOT NULL,
	currency     TEXT NOT NULL,
	credit_lines TEXT,
	PRIMARY KEY (account_id, type, date_time)
);

-- seq is the insertion order that freezes a paginated listing
-- (TxCursor.Snapshot).
CREATE TABLE transactions (
	seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id           TEXT COLLATE "C" NOT NULL UNIQUE,
	account_id   TEXT COLLATE "C" NOT NULL REFERENCES accounts (id),
	booking_time BIGINT NOT NULL,
	amount_minor BIGINT NOT NULL,
	-- Everything else (reference, status, mutability, value time,
	-- information, address line, currency, category and the optional parts:
	-- codes, balance, merchant, card, counterparties, statement references)
	-- in one compact exact encoding; see internal/sqlstore/txparts.go. No
	-- query filters or orders on them, and one column instead of a dozen,
	-- with no JSON, keeps reading a page cheap.
	parts        TEXT NOT NULL
);
-- The keyset pagination index: one range scan per account, in page order.
-- seq and amount_minor are included so that the COUNT and MIN/MAX of a page,
-- snapshot and credit/debit filters included, can be index-only scans.
CREATE INDEX transactions_account_time ON transactions (account_id, booking_time, id) INCLUDE (seq, amount_minor);

-- Per-account, per-side statistics of transactions, kept in the same database
-- transaction as every insert, so that a page whose bounds cover the
-- account's range reads its Total and FirstAvailable/LastAvailable here
-- instead of scanning the account's whole index range. credit is 1 for
-- amount_minor >= 0 and 0 for debits.
CREATE TABLE transaction_stats (
	account_id  TEXT COLLATE "C" NOT NULL REFERENCES accounts (id),
	credit      SMALLINT NOT NULL,
	n           BIGINT NOT NULL,
	first_time  BIGINT NOT NULL,
	last_time   BIGINT NOT NULL,
	PRIMARY KEY (account_id, credit)
);

CREATE TABLE beneficiaries (
	account_id       TEXT COLLATE "C" NOT NULL REFERENCES accounts (id),
	id               TEXT COLLATE "C" NOT NULL,
	type             TEXT NOT NULL,
	reference        TEXT NOT NULL,
	creditor_agent   TEXT,
	creditor_account TEXT,
	PRIMARY KEY (account_id, id)
);

CREATE TABLE direct_debits (
	account_id                TEXT COLLATE "C" NOT NULL REFERENCES accounts (id),
	id                        TEXT COLLATE "C" NOT NULL,
	mandate_identification    TEXT NOT NULL,
	status                    TEXT NOT NULL,
	name                      TEXT NOT NULL,
	previous_payment_time     BIGINT,
	frequency                 TEXT NOT NULL,
	previous_payment_minor    BIGINT,
	previous_payment_currency TEXT,
	PRIMARY KEY (account_id, id)
);

CREATE TABLE standing_orders (
	account_id             TEXT COLLATE "C" NOT NULL REFERENCES accounts (id),
	id                     TEXT COLLATE "C" NOT NULL,
	frequency              TEXT NOT NULL,
	reference              TEXT NOT NULL,
	first_payment_time     BIGINT,
	next_payment_time      BIGINT,
	last_payment_time      BIGINT,
	final_payment_time     BIGINT,
	number_of_payments     TEXT NOT NULL,
	status                 TEXT NOT NULL,
	first_payment_minor    BIGINT,
	first_payment_currency TEXT,
	next_payment_minor     BIGINT,
	next_payment_currency  TEXT,
	last_payment_minor     BIGINT,
	last_payment_currency  TEXT,
	final_payment_minor    BIGINT,
	final_payment_currency TEXT,
	creditor_agent         TEXT,
	creditor_account       TEXT,
	PRIMARY KEY (account_id, id)
);

CREATE TABLE scheduled_payments (
	account_id       TEXT COLLATE "C" NOT NULL REFERENCES accounts (id),
	id               TEXT COLLATE "C" NOT NULL,
	scheduled_time   BIGINT NOT NULL,
	scheduled_type   TEXT NOT NULL,
	reference        TEXT NOT NULL,
	debtor_reference TEXT NOT NULL,
	amount_minor     BIGINT NOT NULL,
	currency         TEXT NOT NULL,
	creditor_agent   TEXT,
	creditor_account TEXT,
	PRIMARY KEY (account_id, id)
);

CREATE TABLE statements (
	account_id    TEXT COLLATE "C" NOT NULL REFERENCES accounts (id),
	id            TEXT COLLATE "C" NOT NULL,
	reference     TEXT NOT NULL,
	type          TEXT NOT NULL,
	start_time    BIGINT NOT NULL,
	end_time      BIGINT NOT NULL,
	creation_time BIGINT NOT NULL,
	detail        TEXT,
	PRIMARY KEY (account_id, id)
);
CREATE INDEX statements_account_start ON statements (account_id, start_time, id);

-- A product id names the bank's product, shared by many accounts.
CREATE TABLE products (
	account_id         TEXT COLLATE "C" NOT NULL REFERENCES accounts (id),
	id                 TEXT COLLATE "C" NOT NULL,
	name               TEXT NOT NULL,
	secondary_id       TEXT NOT NULL,
	type               TEXT NOT NULL,
	marketing_state_id TEXT NOT NULL,
	PRIMARY KEY (account_id, id)
);

CREATE TABLE offers (
	account_id      TEXT COLLATE "C" NOT NULL REFERENCES accounts (id),
	id              TEXT COLLATE "C" NOT NULL,
	type            TEXT NOT NULL,
	description     TEXT NOT NULL,
	start_time      BIGINT,
	end_time        BIGINT,
	rate            TEXT NOT NULL,
	value           BIGINT,
	term            TEXT NOT NULL,
	url             TEXT NOT NULL,
	amount_minor    BIGINT,
	amount_currency TEXT,
	fee_minor       BIGINT,
	fee_currency    TEXT,
	PRIMARY KEY (account_id, id)
);

-- Grants reference customers loosely: the consent flow owns their lifecycle.
CREATE TABLE access_grants (
	id               TEXT COLLATE "C" PRIMARY KEY,
	tpp_id           TEXT NOT NULL,
	customer_id      TEXT COLLATE "C" NOT NULL,
	permissions      TEXT NOT NULL,
	account_ids      TEXT,
	transaction_from BIGINT,
	transaction_to   BIGINT,
	expires_at       BIGINT,
	created_at       BIGINT NOT NULL,
	revoked_at       BIGINT
);

-- Tokens are keyed by the SHA-256 of the bearer value; grant_id is NULL for
-- client-credentials tokens.
CREATE TABLE access_tokens (
	hash            TEXT COLLATE "C" PRIMARY KEY,
	grant_id        TEXT COLLATE "C" REFERENCES access_grants (id),
	client_id       TEXT NOT NULL,
	scopes          TEXT,
	cert_thumbprint TEXT NOT NULL,
	created_at      BIGINT NOT NULL,
	expires_at      BIGINT NOT NULL,
	revoked_at      BIGINT
);
CREATE INDEX access_tokens_grant ON access_tokens (grant_id);

CREATE TABLE api_calls (
	seq                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	interaction_id      TEXT NOT NULL,
	client_id           TEXT NOT NULL,
	grant_id            TEXT COLLATE "C" NOT NULL,
	method              TEXT NOT NULL,
	route               TEXT NOT NULL,
	status              BIGINT NOT NULL,
	latency_micros      BIGINT NOT NULL,
	fapi_auth_date      TEXT NOT NULL,
	customer_ip_address TEXT NOT NULL,
	customer_user_agent TEXT NOT NULL,
	at                  BIGINT NOT NULL
);
CREATE INDEX api_calls_at ON api_calls (at);
