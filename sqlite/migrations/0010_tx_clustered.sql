-- Transactions clustered by their listing order, SQLite dialect. Keep in
-- step with postgres/migrations/0010_tx_records.sql.
--
-- A page of transactions is a range of (account_id, booking_time, id). With
-- the rows in a rowid table, the index of 0001 found them but every row cost
-- a second B-tree search for its parts; as a WITHOUT ROWID table keyed by
-- that range, a page is one contiguous read of the table itself.
--
-- seq, which was the rowid, becomes an ordinary column: the store numbers
-- new rows after MAX(seq) (sqlstore.txInsertColumns). It keeps its meaning:
-- the insertion order that freezes a paginated listing (TxCursor.Snapshot).
--
-- rec replaces parts: the whole transaction as one record (account_id, id,
-- booking time and amount, then the parts, wrapped in a length prefix; see
-- internal/sqlstore/txparts.go), so a page is read as the concatenation of
-- its records, one value from the engine. The other columns stay for the key
-- and the filters. Lengths are in bytes, hence the casts to BLOB; an
-- integer's length is that of its decimal text.
CREATE TABLE transactions_clustered (
	account_id   TEXT NOT NULL REFERENCES accounts (id),
	booking_time INTEGER NOT NULL,
	id           TEXT NOT NULL UNIQUE,
	seq          INTEGER NOT NULL UNIQUE,
	amount_minor INTEGER NOT NULL,
	rec          TEXT NOT NULL,
	PRIMARY KEY (account_id, booking_time, id)
) WITHOUT ROWID;

INSERT INTO transactions_clustered (account_id, booking_time, id, seq, amount_minor, rec)
SELECT account_id, booking_time, id, seq, amount_minor,
	length(CAST(body AS BLOB)) || ':' || body
FROM (SELECT account_id, booking_time, id, seq, amount_minor,
		length(CAST(account_id AS BLOB)) || ':' || account_id ||
		length(CAST(id AS BLOB)) || ':' || id ||
		length(booking_time) || ':' || booking_time ||
		length(amount_minor) || ':' || amount_minor ||
		parts AS body
	FROM transactions);

DROP TABLE transactions;
ALTER TABLE transactions_clustered RENAME TO transactions;

-- The COUNT and MIN/MAX of a page whose bounds cut into an account's range
-- (see sqlstore.countPage) read this index alone: the table's rows are wide
-- (rec), its entries are not. It also carries the key (a WITHOUT ROWID
-- index always does), but in an order that cannot serve a page's ORDER BY,
-- so pages keep reading the table.
CREATE INDEX transactions_account_time ON transactions (account_id, booking_time, seq, amount_minor);
