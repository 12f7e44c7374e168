-- Debits as fraud scoring reads them, SQLite dialect. Keep in step with
-- postgres/migrations/0012_risk_debits.sql.
--
-- risk holds, for a debit written from now on, the few fields scoring
-- compares a payment with (booking time, amount, currency, the creditor's
-- account) as one short record (internal/sqlstore/txparts.go); NULL for a
-- credit, and for debits written before this migration, which the store
-- then reads from rec as before. The table is clustered by account and
-- time already: no index.
ALTER TABLE transactions ADD COLUMN risk TEXT;
