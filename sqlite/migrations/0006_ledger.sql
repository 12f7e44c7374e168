-- The double-entry ledger (ledger.Store), SQLite dialect. Keep in step with
-- postgres/migrations/0006_ledger.sql. Amounts are INTEGER minor units,
-- signed from the account holder's view (credit positive); times INTEGER
-- unix microseconds (UTC).

-- One row per ledger account: customer accounts (same id as accounts.id)
-- and the bank's own per-currency accounts ("bank:settlement:GBP"...).
-- balance_minor is the sum of the account's postings, updated in the same
-- database transaction as every posting. overdraft_limit is how far below
-- zero a debit may take the balance; NULL = no limit (bank accounts).
CREATE TABLE ledger_accounts (
	id              TEXT PRIMARY KEY,
	kind            TEXT NOT NULL,
	currency        TEXT NOT NULL,
	balance_minor   INTEGER NOT NULL,
	overdraft_limit INTEGER,
	created_at      INTEGER NOT NULL,
	updated_at      INTEGER NOT NULL
);

-- One row per balanced entry; the id is the caller's (a payment's id), so
-- the same movement can never be posted twice.
CREATE TABLE ledger_entries (
	id        TEXT PRIMARY KEY,
	kind      TEXT NOT NULL,
	reference TEXT NOT NULL,
	at        INTEGER NOT NULL
);

-- The legs of the entries, n counting from 0 in the entry's order.
CREATE TABLE ledger_postings (
	entry_id     TEXT NOT NULL REFERENCES ledger_entries (id),
	n            INTEGER NOT NULL,
	account_id   TEXT NOT NULL REFERENCES ledger_accounts (id),
	amount_minor INTEGER NOT NULL,
	currency     TEXT NOT NULL,
	PRIMARY KEY (entry_id, n)
);
CREATE INDEX ledger_postings_account ON ledger_postings (account_id, amount_minor);
