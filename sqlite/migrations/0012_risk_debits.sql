-- Debits as fraud scoring reads them, SQLite dialect. Keep in step with
-- postgres/migrations/0012_risk_debits.sql.
--
-- risk holds, for a debit written from now on, the few fields scoring
-- compares a payment with (booking time, amount, currency, the creditor's
-- account) as one short record (internal/sqlstore/txparts.go); NULL for a
-- credit. Debits written before this migration have none until serve
-- fills it in; meanwhile the store reads them from rec as before. The
-- table is clustered by account and time already: scoring's read needs no
-- index.
ALTER TABLE transactions ADD COLUMN risk TEXT;

-- The debits still without one, which serve fills in the background
-- (sqlstore.BackfillRiskRecords) in seq order: the index empties as it goes,
-- and new debits, written with their record, never enter it.
CREATE INDEX transactions_risk_missing ON transactions (seq) WHERE amount_minor < 0 AND risk IS NULL;
