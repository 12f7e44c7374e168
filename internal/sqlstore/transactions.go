package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/obank/obank/ob"
)

// Transactions are listed newest first, by (booking_time DESC, id DESC), with
// keyset pagination over the index transactions_account_time on
// (account_id, booking_time, id). A page reads only its own rows through that
// index; its Total and FirstAvailable/LastAvailable come from
// transaction_stats (see countPage), from the cursor on later pages, and from
// a COUNT and MIN/MAX over the same index range only when a bound cuts into
// the accounts' booking-time range.
//
// Stability comes from the insertion sequence: the first page records the
// highest seq as the snapshot, and every query of later pages adds
// seq <= snapshot, so rows stored meanwhile neither appear nor shift pages.
//
// SQLite's plan for a page (EXPLAIN QUERY PLAN, one account, CursorAfter):
//
//	SEARCH transactions USING INDEX transactions_account_time (account_id=? AND (booking_time,id)<(?,?))
//
// with no temporary B-tree: the index range delivers the rows in page order
// and LIMIT stops the scan. COUNT and MIN/MAX use the same index as a
// covering index. With several accounts (bulk) SQLite searches the range once
// per account and adds "USE TEMP B-TREE FOR ORDER BY": the rows past the
// cursor are sorted inside SQLite, never in Go.
//
// The single-account query texts (the hot path) are prepared once on the
// reader pool and reused in each read transaction (txQuerier); bulk texts,
// whose IN lists vary in length, are not.

// txCols are the columns a page reads: the keys of the index and, in parts,
// everything else (see txparts.go). A page of one account leaves out
// account_id (txColsOneAccount): it is known, and with modernc.org/sqlite
// every column read costs an allocation or two per row.
const (
	txCols           = `id, account_id, booking_time, amount_minor, parts`
	txColsOneAccount = `id, booking_time, amount_minor, parts`
)

// txScan holds the scan destinations of one transaction row; one serves all
// the rows of a page, so the destinations are allocated once.
type txScan struct {
	t       ob.Transaction
	booking int64
	parts   string
	account string // the page's one account, or ""
	dest    []any
	alloc   txAlloc
}

// newTxScan scans txCols, or txColsOneAccount when account is not empty,
// for a page of about rows rows.
func newTxScan(account string, rows int) *txScan {
	r := &txScan{account: account, alloc: txAlloc{n: min(rows, 128)}}
	t := &r.t
	r.dest = []any{&t.ID, &t.AccountID, &r.booking, &t.Amount.Minor, &r.parts}
	if account != "" {
		r.dest = slices.Delete(r.dest, 1, 2)
	}
	return r
}

func (r *txScan) scan(sc scanner) (ob.Transaction, error) {
	r.t = ob.Transaction{AccountID: r.account}
	if err := sc.Scan(r.dest...); err != nil {
		return ob.Transaction{}, err
	}
	t := r.t
	t.BookingDateTime = fromMicros(r.booking)
	if err := decodeTxPartsAlloc(r.parts, &t, &r.alloc); err != nil {
		return t, fmt.Errorf("transaction %s: %w", t.ID, err)
	}
	return t, nil
}

// Transactions returns one page of transactions; see ob.TransactionQuery.
// When it needs several queries they run in one read-only transaction so
// they see one state of the database.
func (s *Store) Transactions(ctx context.Context, q ob.TransactionQuery) (ob.TransactionPage, error) {
	if q.PageSize <= 0 {
		return ob.TransactionPage{}, fmt.Errorf("sqlstore: transactions: page size %d is not positive", q.PageSize)
	}
	if !q.Credits && !q.Debits {
		return ob.TransactionPage{}, errors.New("sqlstore: transactions: neither credits nor debits asked for")
	}
	if q.Cursor.Snapshot != 0 && (q.Cursor.Totals.Known || len(q.AccountIDs) == 0) {
		// A later page carrying its totals is one query, consistent on
		// its own: no transaction needed.
		page, err := transactionPage(txQuerier{s: s, ctx: ctx}, q)
		if err != nil {
			return ob.TransactionPage{}, fmt.Errorf("sqlstore: transactions: %w", err)
		}
		return page, nil
	}
	opts := s.dialect.ReadTx
	opts.ReadOnly = true
	tx, err := s.r.BeginTx(ctx, &opts)
	if err != nil {
		return ob.TransactionPage{}, fmt.Errorf("sqlstore: transactions: begin: %w", err)
	}
	defer tx.Rollback()
	page, err := transactionPage(txQuerier{s: s, tx: tx, ctx: ctx}, q)
	if err != nil {
		return ob.TransactionPage{}, fmt.Errorf("sqlstore: transactions: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return ob.TransactionPage{}, fmt.Errorf("sqlstore: transactions: commit: %w", err)
	}
	return page, nil
}

func transactionPage(db txQuerier, q ob.TransactionQuery) (ob.TransactionPage, error) {
	// The single-account texts form a small fixed set: prepare them once.
	cache := len(q.AccountIDs) == 1
	page := ob.TransactionPage{Snapshot: q.Cursor.Snapshot}
	switch t := q.Cursor.Totals; {
	case page.Snapshot != 0 && t.Known:
		// A later page: the first page counted as of the same snapshot.
		page.Total = t.Total
		if !t.FirstAvailable.IsZero() {
			first, last := t.FirstAvailable.UTC(), t.LastAvailable.UTC()
			page.FirstAvailable, page.LastAvailable = &first, &last
		}
	case len(q.AccountIDs) == 0:
		if page.Snapshot == 0 {
			// MAX over the primary key is a single index probe.
			if err := db.queryRow(true, `SELECT COALESCE(MAX(seq), 0) FROM transactions`).Scan(&page.Snapshot); err != nil {
				return page, fmt.Errorf("snapshot: %w", err)
			}
		}
	default:
		if err := countPage(db, cache, q, &page); err != nil {
			return page, err
		}
	}
	if len(q.AccountIDs) == 0 {
		return page, nil
	}

	var p params
	where := txWhere(&p, q, page.Snapshot, q.From, q.To)
	const (
		newestFirst = ` ORDER BY booking_time DESC, id DESC`
		oldestFirst = ` ORDER BY booking_time, id`
	)
	cols, account := txCols, ""
	if len(q.AccountIDs) == 1 {
		cols, account = txColsOneAccount, q.AccountIDs[0]
	}
	query := `SELECT ` + cols + ` FROM transactions WHERE ` + where
	limit := q.PageSize
	reverse := false // the query reads oldest first; the page is shown newest first
	switch q.Cursor.Mode {
	case ob.CursorFirst:
		query += newestFirst
	case ob.CursorAfter:
		// Row values compare lexicographically on both engines and let the
		// planner use them as an index range.
		query += ` AND (booking_time, id) < (` + p.add(micros(q.Cursor.Key.BookingDateTime)) + `, ` +
			p.add(q.Cursor.Key.ID) + `)` + newestFirst
	case ob.CursorBefore:
		query += ` AND (booking_time, id) > (` + p.add(micros(q.Cursor.Key.BookingDateTime)) + `, ` +
			p.add(q.Cursor.Key.ID) + `)` + oldestFirst
		reverse = true
	case ob.CursorLast:
		// The oldest page holds what is left after the full pages above it.
		if page.Total <= 0 {
			return page, nil
		}
		limit = page.Total - (page.Total-1)/q.PageSize*q.PageSize
		query += oldestFirst
		reverse = true
	case ob.CursorPage:
		query += newestFirst
		if q.Cursor.Page > 1 {
			query += ` LIMIT ` + p.add(limit) + ` OFFSET ` + p.add((q.Cursor.Page-1)*q.PageSize)
			limit = 0
		}
	default:
		return page, fmt.Errorf("unknown cursor mode %d", q.Cursor.Mode)
	}
	if limit > 0 {
		query += ` LIMIT ` + p.add(limit)
	}
	rows, err := db.query(cache, query, p...)
	if err != nil {
		return page, fmt.Errorf("page: %w", err)
	}
	txs, err := scanAll(rows, min(q.PageSize, 1000), newTxScan(account, q.PageSize).scan)
	if err != nil {
		return page, fmt.Errorf("page: %w", err)
	}
	if reverse {
		slices.Reverse(txs)
	}
	page.Transactions = txs
	return page, nil
}

// countPage sets the page's Snapshot (when zero), Total, FirstAvailable and
// LastAvailable.
//
// It reads transaction_stats first, in the same statement as the current
// highest insertion sequence. When that is the listing's snapshot, the stats
// describe the listing exactly, and a bound that does not cut into the
// accounts' booking-time range [oldest, newest] filters nothing: Total (for
// From/To) or FirstAvailable/LastAvailable (for the window) come from the
// stats. Only a bound that cuts into the range, or an older snapshot, needs
// a scan of the index range, and then one scan with a conditional COUNT
// serves both when the filter lies inside the window (as ais makes it).
func countPage(db txQuerier, cache bool, q ob.TransactionQuery, page *ob.TransactionPage) error {
	var (
		p       params
		now, n  int64
		lo, hi  sql.NullInt64
		sideSQL string
	)
	switch {
	case q.Credits && !q.Debits:
		sideSQL = ` AND credit = 1`
	case q.Debits && !q.Credits:
		sideSQL = ` AND credit = 0`
	}
	err := db.queryRow(cache, `SELECT (SELECT COALESCE(MAX(seq), 0) FROM transactions),
		CAST(COALESCE(SUM(n), 0) AS BIGINT), MIN(first_time), MAX(last_time)
		FROM transaction_stats WHERE account_id IN `+p.in(q.AccountIDs)+sideSQL, p...).Scan(&now, &n, &lo, &hi)
	if err != nil {
		return fmt.Errorf("stats: %w", err)
	}
	if page.Snapshot == 0 {
		page.Snapshot = now
	}
	needCount, needWindow := true, true
	if page.Snapshot == now {
		if !lo.Valid {
			return nil // no rows at all
		}
		covers := func(from, to *time.Time) bool {
			return (from == nil || micros(*from) <= lo.Int64) && (to == nil || micros(*to) >= hi.Int64)
		}
		if covers(q.From, q.To) {
			page.Total, needCount = int(n), false
		}
		if covers(q.WindowFrom, q.WindowTo) {
			page.FirstAvailable, page.LastAvailable, needWindow = timePtr(lo), timePtr(hi), false
		}
	}
	inWindow := (q.WindowFrom == nil || q.From != nil && micros(*q.From) >= micros(*q.WindowFrom)) &&
		(q.WindowTo == nil || q.To != nil && micros(*q.To) <= micros(*q.WindowTo))
	if needCount && needWindow && inWindow {
		// One scan of the window's range: the filter is inside it.
		var wp params
		where := txWhere(&wp, q, page.Snapshot, q.WindowFrom, q.WindowTo)
		count := `COUNT(*)`
		var cond []string
		if q.From != nil {
			cond = append(cond, `booking_time >= `+wp.add(micros(*q.From)))
		}
		if q.To != nil {
			cond = append(cond, `booking_time <= `+wp.add(micros(*q.To)))
		}
		if len(cond) > 0 {
			count = `COUNT(CASE WHEN ` + strings.Join(cond, ` AND `) + ` THEN 1 END)`
		}
		var first, last sql.NullInt64
		err := db.queryRow(cache, `SELECT `+count+`, MIN(booking_time), MAX(booking_time) FROM transactions WHERE `+
			where, wp...).Scan(&page.Total, &first, &last)
		if err != nil {
			return fmt.Errorf("count and available range: %w", err)
		}
		page.FirstAvailable, page.LastAvailable = timePtr(first), timePtr(last)
		return nil
	}
	if needCount {
		var cp params
		err := db.queryRow(cache, `SELECT COUNT(*) FROM transactions WHERE `+
			txWhere(&cp, q, page.Snapshot, q.From, q.To), cp...).Scan(&page.Total)
		if err != nil {
			return fmt.Errorf("count: %w", err)
		}
	}
	if needWindow {
		var wp params
		var first, last sql.NullInt64
		err := db.queryRow(cache, `SELECT MIN(booking_time), MAX(booking_time) FROM transactions WHERE `+
			txWhere(&wp, q, page.Snapshot, q.WindowFrom, q.WindowTo), wp...).Scan(&first, &last)
		if err != nil {
			return fmt.Errorf("available range: %w", err)
		}
		page.FirstAvailable, page.LastAvailable = timePtr(first), timePtr(last)
	}
	return nil
}

// scanAll scans and closes rows; about is the number of rows expected. No
// rows is a nil slice.
func scanAll[T any](rows *sql.Rows, about int, scan func(scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		if out == nil && about > 0 {
			out = make([]T, 0, about)
		}
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// txWhere builds the filter shared by a page's queries: the accounts, the
// snapshot, the booking-time bounds (inclusive) and the credit/debit side.
func txWhere(p *params, q ob.TransactionQuery, snapshot int64, from, to *time.Time) string {
	w := `account_id IN ` + p.in(q.AccountIDs) + ` AND seq <= ` + p.add(snapshot)
	if from != nil {
		w += ` AND booking_time >= ` + p.add(micros(*from))
	}
	if to != nil {
		w += ` AND booking_time <= ` + p.add(micros(*to))
	}
	switch {
	case q.Credits && !q.Debits:
		w += ` AND amount_minor >= 0`
	case q.Debits && !q.Credits:
		w += ` AND amount_minor < 0`
	}
	return w
}
