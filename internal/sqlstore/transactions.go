package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/obank/obank/ob"
)

// Transactions are listed newest first, by (booking_time DESC, id DESC), with
// keyset pagination over (account_id, booking_time, id): on SQLite the
// table's own key (WITHOUT ROWID, migration 0010), on PostgreSQL the index
// transactions_account_time. A page reads only its own rows, as one value
// (pageRows); its Total and FirstAvailable/LastAvailable come from
// transaction_stats (see countPage), from the cursor on later pages, and from
// a COUNT and MIN/MAX over the account's index range only when a bound cuts
// into the accounts' booking-time range. A first page whose bounds do not
// cut is a single statement (firstPage).
//
// Stability comes from the insertion sequence: the first page records the
// highest seq as the snapshot, and every query of later pages adds
// seq <= snapshot, so rows stored meanwhile neither appear nor shift pages.
//
// SQLite's plan for a page (EXPLAIN QUERY PLAN, one account, CursorAfter):
//
//	CO-ROUTINE page
//	SEARCH transactions USING PRIMARY KEY (account_id=? AND (booking_time,id)<(?,?))
//	SCAN page
//
// with no temporary B-tree: the key range delivers the rows in page order,
// contiguous in the table, and LIMIT stops the scan. COUNT and MIN/MAX use
// transactions_account_time (account_id, booking_time, seq, amount_minor) as
// a covering index. With several accounts (bulk) SQLite searches the range
// once per account and adds "USE TEMP B-TREE FOR ORDER BY": the rows past
// the cursor are sorted inside SQLite, never in Go.
//
// The single-account query texts (the hot path) are prepared once on the
// reader pool and reused in each read transaction (txQuerier); bulk texts,
// whose IN lists vary in length, are not.

// Transactions returns one page of transactions; see ob.TransactionQuery.
func (s *Store) Transactions(ctx context.Context, q ob.TransactionQuery) (ob.TransactionPage, error) {
	page, recs, reverse, err := s.pageRecords(ctx, q)
	if err != nil {
		return ob.TransactionPage{}, err
	}
	if page.Transactions, err = decodePage(recs, q.PageSize, reverse); err != nil {
		return ob.TransactionPage{}, fmt.Errorf("sqlstore: transactions: page: %w", err)
	}
	return page, nil
}

// ScanTransactions is Transactions without the slice (ob.TransactionScanner):
// each record of the page is decoded into one scratch transaction in turn
// and handed to each, so a page allocates no transactions or parts.
func (s *Store) ScanTransactions(ctx context.Context, q ob.TransactionQuery, each func(t *ob.Transaction, plain bool) error) (ob.TransactionPage, error) {
	page, recs, reverse, err := s.pageRecords(ctx, q)
	if err != nil {
		return ob.TransactionPage{}, err
	}
	st := scanPool.Get().(*scanState)
	defer st.release()
	if st.recs, err = splitTxRecords(recs, st.recs); err != nil {
		return ob.TransactionPage{}, fmt.Errorf("sqlstore: transactions: page: %w", err)
	}
	orderRecords(st.recs, reverse)
	for i := range st.recs {
		t, plain, err := st.scratch.decodeSplit(&st.recs[i])
		if err != nil {
			return ob.TransactionPage{}, fmt.Errorf("sqlstore: transactions: page: %w", err)
		}
		if err := each(t, plain); err != nil {
			return ob.TransactionPage{}, err
		}
	}
	return page, nil
}

// scanState is what ScanTransactions reuses from one page to the next.
type scanState struct {
	recs    []txRecord
	scratch txScratch
}

var scanPool = sync.Pool{New: func() any { return &scanState{recs: make([]txRecord, 0, 128)} }}

// release returns st to the pool without keeping the page's records (or a
// huge array) alive.
func (st *scanState) release() {
	if cap(st.recs) > 1024 {
		return
	}
	clear(st.recs)
	st.recs = st.recs[:0]
	st.scratch = txScratch{}
	scanPool.Put(st)
}

// orderRecords puts the records of a pageRows query in page order, newest
// first, as decodePage does with decoded transactions.
func orderRecords(recs []txRecord, reverse bool) {
	order := func(a, b *txRecord) int { // the query's order
		if reverse {
			a, b = b, a
		}
		return cmp.Or(cmp.Compare(b.booking, a.booking), strings.Compare(b.id, a.id))
	}
	for i := 1; i < len(recs); i++ {
		if order(&recs[i-1], &recs[i]) > 0 {
			slices.SortFunc(recs, func(a, b txRecord) int { return order(&a, &b) })
			break
		}
	}
	if reverse {
		slices.Reverse(recs)
	}
}

// pageRecords reads the page q selects as its figures and its records (a
// stream of rec values, see txparts.go) in the order of the pageRows query,
// which is oldest first when reverse is set. When it needs several queries
// they run in one read-only transaction so they see one state of the
// database.
func (s *Store) pageRecords(ctx context.Context, q ob.TransactionQuery) (page ob.TransactionPage, recs string, reverse bool, err error) {
	if q.PageSize <= 0 {
		return page, "", false, fmt.Errorf("sqlstore: transactions: page size %d is not positive", q.PageSize)
	}
	if !q.Credits && !q.Debits {
		return page, "", false, errors.New("sqlstore: transactions: neither credits nor debits asked for")
	}
	if q.Cursor.Snapshot != 0 && (q.Cursor.Totals.Known || len(q.AccountIDs) == 0) {
		// A later page carrying its totals is one query, consistent on
		// its own: no transaction needed.
		page, recs, reverse, err = transactionPage(txQuerier{s: s, ctx: ctx}, q)
		if err != nil {
			return ob.TransactionPage{}, "", false, fmt.Errorf("sqlstore: transactions: %w", err)
		}
		return page, recs, reverse, nil
	}
	if q.Cursor.Snapshot == 0 && len(q.AccountIDs) > 0 &&
		(q.Cursor.Mode == ob.CursorFirst || q.Cursor.Mode == ob.CursorPage) {
		page, recs, reverse, ok, err := firstPage(txQuerier{s: s, ctx: ctx}, q)
		if err != nil {
			return ob.TransactionPage{}, "", false, fmt.Errorf("sqlstore: transactions: %w", err)
		}
		if ok {
			return page, recs, reverse, nil
		}
		// A bound cuts into the accounts' range: count in a transaction.
	}
	opts := s.dialect.ReadTx
	opts.ReadOnly = true
	tx, err := s.r.BeginTx(ctx, &opts)
	if err != nil {
		return ob.TransactionPage{}, "", false, fmt.Errorf("sqlstore: transactions: begin: %w", err)
	}
	defer tx.Rollback()
	page, recs, reverse, err = transactionPage(txQuerier{s: s, tx: tx, ctx: ctx}, q)
	if err != nil {
		return ob.TransactionPage{}, "", false, fmt.Errorf("sqlstore: transactions: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return ob.TransactionPage{}, "", false, fmt.Errorf("sqlstore: transactions: commit: %w", err)
	}
	return page, recs, reverse, nil
}

// firstPage reads a first listing (no snapshot yet) whose position needs no
// total (CursorFirst, CursorPage) in one statement: the snapshot, the
// transaction_stats of the accounts and the page's rows together. A
// statement sees one state of the database on both engines, so it needs no
// transaction, and no seq filter: every row it sees is at most the MAX(seq)
// it reads. It reports false, and no page, when a bound cuts into the
// accounts' booking-time range, so that the stats do not give the Total or
// the available range (see countPage).
func firstPage(db txQuerier, q ob.TransactionQuery) (_ ob.TransactionPage, recs string, reverse bool, ok bool, err error) {
	var (
		p      params
		now, n int64
		lo, hi sql.NullInt64
		rows   string
	)
	rows, reverse, err = pageRows(&p, q, noSnapshot, 0)
	if err != nil {
		return ob.TransactionPage{}, "", false, false, err
	}
	err = db.queryRow(len(q.AccountIDs) == 1, `SELECT (SELECT COALESCE(MAX(seq), 0) FROM transactions),
		CAST(COALESCE(SUM(n), 0) AS BIGINT), MIN(first_time), MAX(last_time),
		(SELECT COALESCE(string_agg(rec, ''), '') FROM (`+rows+`) AS page)
		FROM transaction_stats WHERE account_id IN `+p.in(q.AccountIDs)+statsSide(q), p...).Scan(&now, &n, &lo, &hi, &recs)
	if err != nil {
		return ob.TransactionPage{}, "", false, false, fmt.Errorf("first page: %w", err)
	}
	page := ob.TransactionPage{Snapshot: now}
	if lo.Valid { // else no rows at all
		if !statsCover(q.From, q.To, lo, hi) || !statsCover(q.WindowFrom, q.WindowTo, lo, hi) {
			return ob.TransactionPage{}, "", false, false, nil
		}
		page.Total = int(n)
		page.FirstAvailable, page.LastAvailable = timePtr(lo), timePtr(hi)
	}
	return page, recs, reverse, true, nil
}

// transactionPage reads the page as pageRecords returns it.
func transactionPage(db txQuerier, q ob.TransactionQuery) (page ob.TransactionPage, recs string, reverse bool, err error) {
	// The single-account texts form a small fixed set: prepare them once.
	cache := len(q.AccountIDs) == 1
	page.Snapshot = q.Cursor.Snapshot
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
			// MAX over the unique index on seq is a single probe.
			if err := db.queryRow(true, `SELECT COALESCE(MAX(seq), 0) FROM transactions`).Scan(&page.Snapshot); err != nil {
				return page, "", false, fmt.Errorf("snapshot: %w", err)
			}
		}
	default:
		if err := countPage(db, cache, q, &page); err != nil {
			return page, "", false, err
		}
	}
	if len(q.AccountIDs) == 0 {
		return page, "", false, nil
	}
	if q.Cursor.Mode == ob.CursorLast && page.Total <= 0 {
		return page, "", false, nil
	}
	var p params
	rows, reverse, err := pageRows(&p, q, page.Snapshot, page.Total)
	if err != nil {
		return page, "", false, err
	}
	if err := db.queryRow(cache, `SELECT COALESCE(string_agg(rec, ''), '') FROM (`+rows+`) AS page`,
		p...).Scan(&recs); err != nil {
		return page, "", false, fmt.Errorf("page: %w", err)
	}
	return page, recs, reverse, nil
}

// pageRows returns the query of the page's rows: their rec, as of snapshot,
// in the query's order, which is oldest first when reverse is set (the page
// is shown newest first). total is the listing's Total, which only
// CursorLast needs.
//
// The page is read as one value, its records concatenated by string_agg
// over this query (see txparts.go): one row and one column from the engine
// instead of a hundred rows of several, which was most of the cost of a
// page on modernc.org/sqlite.
func pageRows(p *params, q ob.TransactionQuery, snapshot int64, total int) (query string, reverse bool, err error) {
	const (
		newestFirst = ` ORDER BY booking_time DESC, id DESC`
		oldestFirst = ` ORDER BY booking_time, id`
	)
	query = `SELECT rec FROM transactions WHERE ` + txWhere(p, q, snapshot, q.From, q.To)
	limit := q.PageSize
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
		limit = total - (total-1)/q.PageSize*q.PageSize
		query += oldestFirst
		reverse = true
	case ob.CursorPage:
		query += newestFirst
		if q.Cursor.Page > 1 {
			query += ` LIMIT ` + p.add(limit) + ` OFFSET ` + p.add((q.Cursor.Page-1)*q.PageSize)
			limit = 0
		}
	default:
		return "", false, fmt.Errorf("unknown cursor mode %d", q.Cursor.Mode)
	}
	if limit > 0 {
		query += ` LIMIT ` + p.add(limit)
	}
	return query, reverse, nil
}

// decodePage decodes the records of a page of about size rows read by a
// pageRows query and returns them newest first; no records is a nil slice.
func decodePage(recs string, size int, reverse bool) ([]ob.Transaction, error) {
	if recs == "" {
		return nil, nil
	}
	alloc := txAlloc{n: min(size, 128)}
	txs, err := decodeTxRecords(recs, make([]ob.Transaction, 0, min(size, 1000)), &alloc)
	if err != nil {
		return nil, err
	}
	// Neither engine promises that an aggregate sees the rows of an
	// ordered subquery in its order, though both do: check, and sort when
	// it did not. (Through pointers: a Transaction is large to copy.)
	order := func(a, b *ob.Transaction) int { // the query's order
		if reverse {
			a, b = b, a
		}
		return cmp.Or(b.BookingDateTime.Compare(a.BookingDateTime), strings.Compare(b.ID, a.ID))
	}
	for i := 1; i < len(txs); i++ {
		if order(&txs[i-1], &txs[i]) > 0 {
			slices.SortFunc(txs, func(a, b ob.Transaction) int { return order(&a, &b) })
			break
		}
	}
	if reverse {
		slices.Reverse(txs)
	}
	return txs, nil
}

// statsSide is the transaction_stats filter for q's side.
func statsSide(q ob.TransactionQuery) string {
	switch {
	case q.Credits && !q.Debits:
		return ` AND credit = 1`
	case q.Debits && !q.Credits:
		return ` AND credit = 0`
	}
	return ""
}

// statsCover reports whether the bounds from and to (inclusive, nil for
// none) filter nothing out of the booking-time range [lo, hi].
func statsCover(from, to *time.Time, lo, hi sql.NullInt64) bool {
	return (from == nil || micros(*from) <= lo.Int64) && (to == nil || micros(*to) >= hi.Int64)
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
		p      params
		now, n int64
		lo, hi sql.NullInt64
	)
	err := db.queryRow(cache, `SELECT (SELECT COALESCE(MAX(seq), 0) FROM transactions),
		CAST(COALESCE(SUM(n), 0) AS BIGINT), MIN(first_time), MAX(last_time)
		FROM transaction_stats WHERE account_id IN `+p.in(q.AccountIDs)+statsSide(q), p...).Scan(&now, &n, &lo, &hi)
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
		if statsCover(q.From, q.To, lo, hi) {
			page.Total, needCount = int(n), false
		}
		if statsCover(q.WindowFrom, q.WindowTo, lo, hi) {
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

// noSnapshot, as the snapshot of txWhere, filters no row by its insertion
// sequence: firstPage's statement sees no row newer than the snapshot it
// reads.
const noSnapshot = math.MaxInt64

// txWhere builds the filter shared by a page's queries: the accounts, the
// snapshot (none for noSnapshot), the booking-time bounds (inclusive) and
// the credit/debit side.
func txWhere(p *params, q ob.TransactionQuery, snapshot int64, from, to *time.Time) string {
	w := `account_id IN ` + p.in(q.AccountIDs)
	if snapshot != noSnapshot {
		// A comparison per row scanned, spared where it cannot filter.
		w += ` AND seq <= ` + p.add(snapshot)
	}
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

// txInsertColumns returns the columns importData writes for each of n new
// transactions and, when the store numbers them, the seq of the first (0
// otherwise). On SQLite transactions is clustered by its key (WITHOUT ROWID,
// migration 0010) and has no rowid to number rows with, so the store gives
// each the next seq: its writers are serialized, so MAX(seq) in the write
// transaction is the highest there will be until it commits. PostgreSQL's
// seq is an identity column.
func (s *Store) txInsertColumns(ctx context.Context, tx *sql.Tx, n int) ([]string, int64, error) {
	cols := []string{"id", "account_id", "booking_time", "amount_minor", "rec", "risk"}
	if n == 0 || s.dialect.Name != "sqlite" {
		return cols, 0, nil
	}
	var last int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM transactions`).Scan(&last); err != nil {
		return nil, 0, fmt.Errorf("next seq: %w", err)
	}
	return append(cols, "seq"), last + 1, nil
}
