-- Debits as fraud scoring reads them, PostgreSQL dialect. Keep in step with
-- sqlite/migrations/0012_risk_debits.sql.
--
-- risk holds, for a debit written from now on, the few fields scoring
-- compares a payment with (booking time, amount, currency, the creditor's
-- account) as one short record (internal/sqlstore/txparts.go); NULL for a
-- credit, and for debits written before this migration, which the store
-- then reads from rec as before. A payment and an authorisation each read
-- an account's newest 200 debits: from this index, without the heap and its
-- full records, once they were written with it.
ALTER TABLE transactions ADD COLUMN risk TEXT;

CREATE INDEX transactions_debits ON transactions (account_id, booking_time, id) INCLUDE (risk)
	WHERE amount_minor < 0;
