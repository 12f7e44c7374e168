package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/obank/obank/ob"
)

// Transactions are listed newest first, by (booking_time DESC, id DESC), with
// keyset pagination over the index transactions_account_time on
// (account_id, booking_time, id). A page reads only its own rows through that
// index, plus COUNT and MIN/MAX aggregates over the same index range.
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

const txCols = `id, account_id, reference, status, mutability, booking_time, value_time,
	information, address_line, amount_minor, currency, category, detail`

func scanTransaction(sc scanner) (ob.Transaction, error) {
	var (
		t       ob.Transaction
		booking int64
		value   sql.NullInt64
		detail  sql.NullString
	)
	err := sc.Scan(&t.ID, &t.AccountID, &t.Reference, &t.Status, &t.Mutability, &booking, &value,
		&t.Information, &t.AddressLine, &t.Amount.Minor, &t.Amount.Currency, &t.Category, &detail)
	if err != nil {
		return t, err
	}
	t.BookingDateTime = fromMicros(booking)
	t.ValueDateTime = timePtr(value)
	var d txDetailJSON
	if err := decodeCol(detail, &d); err != nil {
		return t, err
	}
	d.apply(&t)
	return t, nil
}

// Transactions returns one page of transactions; see ob.TransactionQuery.
// All its queries run in one read-only transaction so they see one state of
// the database.
func (s *Store) Transactions(ctx context.Context, q ob.TransactionQuery) (ob.TransactionPage, error) {
	if q.PageSize <= 0 {
		return ob.TransactionPage{}, fmt.Errorf("sqlstore: transactions: page size %d is not positive", q.PageSize)
	}
	if !q.Credits && !q.Debits {
		return ob.TransactionPage{}, errors.New("sqlstore: transactions: neither credits nor debits asked for")
	}
	opts := s.dialect.ReadTx
	opts.ReadOnly = true
	tx, err := s.r.BeginTx(ctx, &opts)
	if err != nil {
		return ob.TransactionPage{}, fmt.Errorf("sqlstore: transactions: begin: %w", err)
	}
	defer tx.Rollback()
	page, err := transactionPage(ctx, tx, q)
	if err != nil {
		return ob.TransactionPage{}, fmt.Errorf("sqlstore: transactions: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return ob.TransactionPage{}, fmt.Errorf("sqlstore: transactions: commit: %w", err)
	}
	return page, nil
}

func transactionPage(ctx context.Context, tx querier, q ob.TransactionQuery) (ob.TransactionPage, error) {
	page := ob.TransactionPage{Snapshot: q.Cursor.Snapshot}
	if page.Snapshot == 0 {
		// MAX over the primary key is a single index probe.
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM transactions`).Scan(&page.Snapshot); err != nil {
			return page, fmt.Errorf("snapshot: %w", err)
		}
	}
	if len(q.AccountIDs) == 0 {
		return page, nil
	}

	var p params
	where := txWhere(&p, q, page.Snapshot, q.From, q.To)
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM transactions WHERE `+where, p...).Scan(&page.Total); err != nil {
		return page, fmt.Errorf("count: %w", err)
	}

	var wp params
	var first, last sql.NullInt64
	err := tx.QueryRowContext(ctx, `SELECT MIN(booking_time), MAX(booking_time) FROM transactions WHERE `+
		txWhere(&wp, q, page.Snapshot, q.WindowFrom, q.WindowTo), wp...).Scan(&first, &last)
	if err != nil {
		return page, fmt.Errorf("available range: %w", err)
	}
	page.FirstAvailable, page.LastAvailable = timePtr(first), timePtr(last)

	const (
		newestFirst = ` ORDER BY booking_time DESC, id DESC`
		oldestFirst = ` ORDER BY booking_time, id`
	)
	query := `SELECT ` + txCols + ` FROM transactions WHERE ` + where
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
		if page.Total == 0 {
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
	txs, err := queryAll(ctx, tx, scanTransaction, query, p...)
	if err != nil {
		return page, fmt.Errorf("page: %w", err)
	}
	if reverse {
		slices.Reverse(txs)
	}
	page.Transactions = txs
	return page, nil
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
