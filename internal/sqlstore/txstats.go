package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sync"

	"github.com/obank/obank/ob"
)

// Transaction statistics.
//
// transaction_stats holds, per account and side (credit = amount_minor >= 0,
// else debit), the number of transactions and their oldest and newest
// booking time. Every path that inserts transactions calls addTxStats in the
// same database transaction (Import today, the ledger later), so the table is
// exactly the aggregate of the transactions table at every committed state.
// A page whose booking-time bounds cover the account's range (the common
// case: no filter, or a filter wider than the data) reads its Total and
// FirstAvailable/LastAvailable from a few rows here instead of scanning the
// account's whole index range; see transactionPage.

// txStatsKey is one row of transaction_stats.
type txStatsKey struct {
	account string
	credit  int
}

type txStatsVal struct {
	n           int64
	first, last int64
}

// addTxStats adds txs, just inserted in tx, to transaction_stats.
func addTxStats(ctx context.Context, tx *sql.Tx, txs []ob.Transaction) error {
	if len(txs) == 0 {
		return nil
	}
	agg := make(map[txStatsKey]txStatsVal)
	for i := range txs {
		t := &txs[i]
		k := txStatsKey{account: t.AccountID}
		if t.IsCredit() {
			k.credit = 1
		}
		at := micros(t.BookingDateTime)
		v, ok := agg[k]
		if !ok {
			v = txStatsVal{first: at, last: at}
		}
		v.n++
		v.first, v.last = min(v.first, at), max(v.last, at)
		agg[k] = v
	}
	// A fixed order keeps concurrent writers on PostgreSQL from locking the
	// same rows in opposite orders.
	keys := make([]txStatsKey, 0, len(agg))
	for k := range agg {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b txStatsKey) int {
		return cmp.Or(cmp.Compare(a.account, b.account), cmp.Compare(a.credit, b.credit))
	})
	st, err := tx.PrepareContext(ctx, `INSERT INTO transaction_stats (account_id, credit, n, first_time, last_time)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (account_id, credit) DO UPDATE SET
			n = transaction_stats.n + excluded.n,
			first_time = CASE WHEN excluded.first_time < transaction_stats.first_time
				THEN excluded.first_time ELSE transaction_stats.first_time END,
			last_time = CASE WHEN excluded.last_time > transaction_stats.last_time
				THEN excluded.last_time ELSE transaction_stats.last_time END`)
	if err != nil {
		return fmt.Errorf("transaction stats: %w", err)
	}
	defer st.Close()
	for _, k := range keys {
		v := agg[k]
		if _, err := st.ExecContext(ctx, k.account, k.credit, v.n, v.first, v.last); err != nil {
			return fmt.Errorf("transaction stats: %w", err)
		}
	}
	return nil
}

// stmtCache holds statements prepared once on the reader pool, keyed by
// their SQL text. Only texts from a bounded set go in (the single-account
// variants of the hot queries); queries whose text grows with their input
// (IN lists of several accounts) stay unprepared.
type stmtCache struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// stmt returns the prepared statement for query on db, preparing it on first
// use.
func (c *stmtCache) stmt(ctx context.Context, db *sql.DB, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	st, ok := c.m[query]
	c.mu.Unlock()
	if ok {
		return st, nil
	}
	st, err := db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[query]; ok {
		st.Close()
		return old, nil
	}
	if c.m == nil {
		c.m = make(map[string]*sql.Stmt)
	}
	c.m[query] = st
	return st, nil
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m = nil
}

// txQuerier runs a page's queries, in the read transaction tx or, when tx is
// nil, as single statements on the reader pool; through the pool's prepared
// statements when the query text is cacheable.
type txQuerier struct {
	s   *Store
	tx  *sql.Tx
	ctx context.Context
}

func (q txQuerier) query(cache bool, query string, args ...any) (*sql.Rows, error) {
	if cache {
		st, err := q.s.stmts.stmt(q.ctx, q.s.r, query)
		if err != nil {
			return nil, err
		}
		if q.tx != nil {
			st = q.tx.StmtContext(q.ctx, st)
		}
		return st.QueryContext(q.ctx, args...)
	}
	if q.tx == nil {
		return q.s.r.QueryContext(q.ctx, query, args...)
	}
	return q.tx.QueryContext(q.ctx, query, args...)
}

func (q txQuerier) queryRow(cache bool, query string, args ...any) *sql.Row {
	if cache {
		if st, err := q.s.stmts.stmt(q.ctx, q.s.r, query); err == nil {
			if q.tx != nil {
				st = q.tx.StmtContext(q.ctx, st)
			}
			return st.QueryRowContext(q.ctx, args...)
		}
		// Let the unprepared query report the error.
	}
	if q.tx == nil {
		return q.s.r.QueryRowContext(q.ctx, query, args...)
	}
	return q.tx.QueryRowContext(q.ctx, query, args...)
}
