package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

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
	const upsert = `INSERT INTO transaction_stats (account_id, credit, n, first_time, last_time)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (account_id, credit) DO UPDATE SET
			n = transaction_stats.n + excluded.n,
			first_time = CASE WHEN excluded.first_time < transaction_stats.first_time
				THEN excluded.first_time ELSE transaction_stats.first_time END,
			last_time = CASE WHEN excluded.last_time > transaction_stats.last_time
				THEN excluded.last_time ELSE transaction_stats.last_time END`
	// A payment touches one or two keys: preparing (and on PostgreSQL
	// closing) a statement for them would cost two more round trips inside
	// the transaction that holds the accounts' locks; pgx caches the plan
	// of a plain Exec per connection anyway. An import prepares once.
	exec := func(args ...any) (sql.Result, error) { return tx.ExecContext(ctx, upsert, args...) }
	if len(keys) > 4 {
		st, err := tx.PrepareContext(ctx, upsert)
		if err != nil {
			return fmt.Errorf("transaction stats: %w", err)
		}
		defer st.Close()
		exec = func(args ...any) (sql.Result, error) { return st.ExecContext(ctx, args...) }
	}
	for _, k := range keys {
		v := agg[k]
		if _, err := exec(k.account, k.credit, v.n, v.first, v.last); err != nil {
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
	mu      sync.Mutex
	m       map[string]*sql.Stmt
	pending map[string]bool // being prepared in the background
	closed  bool
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
	if old, ok := c.m[query]; ok || c.closed {
		st.Close()
		if c.closed {
			return nil, errors.New("sqlstore: store closed")
		}
		return old, nil
	}
	if c.m == nil {
		c.m = make(map[string]*sql.Stmt)
	}
	c.m[query] = st
	return st, nil
}

// lookup returns the statement for query if it is prepared already.
func (c *stmtCache) lookup(query string) (*sql.Stmt, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, ok := c.m[query]
	return st, ok
}

// prepareAsync prepares query on db in the background, once at a time per
// query; failures are left for the next use to retry.
func (c *stmtCache) prepareAsync(db *sql.DB, query string) {
	c.mu.Lock()
	if c.pending == nil {
		c.pending = make(map[string]bool)
	}
	if c.pending[query] || c.closed {
		c.mu.Unlock()
		return
	}
	c.pending[query] = true
	c.mu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = c.stmt(ctx, db, query)
		c.mu.Lock()
		delete(c.pending, query)
		c.mu.Unlock()
	}()
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m = nil
	c.closed = true
}

// prepared returns the pool's prepared statement for query, bound to q.tx
// when there is one. Inside a transaction a statement not prepared yet is
// not prepared there and then: preparing on the pool needs a second
// connection while the transaction holds one, and a burst of such requests
// after a start (more than the pool's size, each holding a connection and
// waiting for another) would deadlock the pool. The query then runs
// unprepared on the transaction, and the statement is prepared in the
// background for the next one. ok is false when the caller should run the
// query unprepared (also when preparing failed: the unprepared query reports
// the error).
func (q txQuerier) prepared(query string) (*sql.Stmt, bool) {
	if q.tx == nil {
		st, err := q.s.stmts.stmt(q.ctx, q.s.r, query)
		return st, err == nil
	}
	st, ok := q.s.stmts.lookup(query)
	if !ok {
		q.s.stmts.prepareAsync(q.s.r, query)
		return nil, false
	}
	return q.tx.StmtContext(q.ctx, st), true
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
		if st, ok := q.prepared(query); ok {
			return st.QueryContext(q.ctx, args...)
		}
	}
	if q.tx == nil {
		return q.s.r.QueryContext(q.ctx, query, args...)
	}
	return q.tx.QueryContext(q.ctx, query, args...)
}

func (q txQuerier) queryRow(cache bool, query string, args ...any) *sql.Row {
	if cache {
		if st, ok := q.prepared(query); ok {
			return st.QueryRowContext(q.ctx, args...)
		}
	}
	if q.tx == nil {
		return q.s.r.QueryRowContext(q.ctx, query, args...)
	}
	return q.tx.QueryRowContext(q.ctx, query, args...)
}
