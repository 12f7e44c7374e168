-- Transactions read as records, PostgreSQL dialect. Keep in step with
-- sqlite/migrations/0010_tx_clustered.sql.
--
-- rec replaces parts: the whole transaction as one record (account_id, id,
-- booking time and amount, then the parts, wrapped in a length prefix; see
-- internal/sqlstore/txparts.go), so a page is read as the concatenation of
-- its records, one value from the server. The other columns stay for the
-- index and the filters. Lengths are in bytes.
--
-- SQLite also clusters the table by (account_id, booking_time, id) there;
-- PostgreSQL keeps its heap, its identity seq and the index of 0001 (a heap
-- cannot stay clustered as rows arrive, and CLUSTER locks the table).
ALTER TABLE transactions RENAME COLUMN parts TO rec;

UPDATE transactions SET rec = (
	SELECT octet_length(body) || ':' || body
	FROM (SELECT octet_length(account_id) || ':' || account_id ||
		octet_length(id) || ':' || id ||
		octet_length(booking_time::text) || ':' || booking_time ||
		octet_length(amount_minor::text) || ':' || amount_minor ||
		rec) AS r (body));
