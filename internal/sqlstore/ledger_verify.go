package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/obank/obank/ledger"
	"github.com/obank/obank/ob"
)

// Verify checks the whole ledger in one read snapshot; see ledger.Report.
// Sums are cast to BIGINT because PostgreSQL's SUM(bigint) is numeric.
func (s *Store) Verify(ctx context.Context) (ledger.Report, error) {
	rep := ledger.Report{Totals: map[string]int64{}}
	opts := s.dialect.ReadTx
	opts.ReadOnly = true
	tx, err := s.r.BeginTx(ctx, &opts)
	if err != nil {
		return rep, fmt.Errorf("sqlstore: ledger verify: begin: %w", err)
	}
	defer tx.Rollback()
	if err := s.verify(ctx, tx, &rep); err != nil {
		return rep, err
	}
	rep.Sort()
	return rep, nil
}

func (s *Store) verify(ctx context.Context, tx *sql.Tx, rep *ledger.Report) error {
	wrap := func(err error, what string) error { return s.wrapErr(err, "ledger verify: %s", what) }

	// Every account's balance against the sum of its postings.
	rows, err := tx.QueryContext(ctx, `SELECT l.id, l.kind, l.currency, l.balance_minor,
			COALESCE(p.total, 0), COALESCE(p.n, 0)
		FROM ledger_accounts l LEFT JOIN (
			SELECT account_id, CAST(SUM(amount_minor) AS BIGINT) AS total, COUNT(*) AS n
			FROM ledger_postings GROUP BY account_id) p ON p.account_id = l.id
		ORDER BY l.id`)
	if err != nil {
		return wrap(err, "accounts")
	}
	customer := map[string]ob.Money{}
	for rows.Next() {
		var (
			id, kind, cur  string
			balance, total int64
			n              int
		)
		if err := rows.Scan(&id, &kind, &cur, &balance, &total, &n); err != nil {
			rows.Close()
			return wrap(err, "accounts")
		}
		rep.Accounts++
		rep.Postings += n
		rep.Totals[cur] += balance
		if balance != total {
			rep.Mismatches = append(rep.Mismatches, ledger.Mismatch{Kind: ledger.MismatchBalance, ID: id,
				Want: ob.Money{Minor: total, Currency: cur}, Got: ob.Money{Minor: balance, Currency: cur}})
		}
		if kind == ledger.KindCustomer {
			customer[id] = ob.Money{Minor: balance, Currency: cur}
		}
	}
	if err := rows.Close(); err != nil {
		return wrap(err, "accounts")
	}
	for cur, total := range rep.Totals {
		if total != 0 {
			rep.Mismatches = append(rep.Mismatches, ledger.Mismatch{Kind: ledger.MismatchCurrency, ID: cur,
				Want: ob.Money{Currency: cur}, Got: ob.Money{Minor: total, Currency: cur}})
		}
	}

	// Every entry balances per currency.
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM ledger_entries`).Scan(&rep.Entries); err != nil {
		return wrap(err, "entries")
	}
	rows, err = tx.QueryContext(ctx, `SELECT entry_id, currency, CAST(SUM(amount_minor) AS BIGINT)
		FROM ledger_postings GROUP BY entry_id, currency HAVING SUM(amount_minor) <> 0 ORDER BY entry_id`)
	if err != nil {
		return wrap(err, "entries")
	}
	for rows.Next() {
		var (
			id, cur string
			sum     int64
		)
		if err := rows.Scan(&id, &cur, &sum); err != nil {
			rows.Close()
			return wrap(err, "entries")
		}
		rep.Mismatches = append(rep.Mismatches, ledger.Mismatch{Kind: ledger.MismatchEntry, ID: id,
			Want: ob.Money{Currency: cur}, Got: ob.Money{Minor: sum, Currency: cur}})
	}
	if err := rows.Close(); err != nil {
		return wrap(err, "entries")
	}

	// The AIS view: every account is in the ledger, and its newest
	// InterimBooked balance is its ledger balance.
	rows, err = tx.QueryContext(ctx, `SELECT a.id, a.currency, b.amount_minor, b.currency
		FROM accounts a LEFT JOIN balances b ON b.account_id = a.id AND b.type = $1
			AND b.date_time = (SELECT MAX(x.date_time) FROM balances x WHERE x.account_id = a.id AND x.type = $1)
		ORDER BY a.id`, ob.BalanceInterimBooked)
	if err != nil {
		return wrap(err, "AIS balances")
	}
	for rows.Next() {
		var (
			id, cur string
			amount  sql.NullInt64
			bcur    sql.NullString
		)
		if err := rows.Scan(&id, &cur, &amount, &bcur); err != nil {
			rows.Close()
			return wrap(err, "AIS balances")
		}
		l, ok := customer[id]
		if !ok {
			rep.Mismatches = append(rep.Mismatches, ledger.Mismatch{Kind: ledger.MismatchUnopened, ID: id,
				Want: ob.Money{Minor: amount.Int64, Currency: cur}, Got: ob.Money{Currency: cur}})
			continue
		}
		got := ob.Money{Minor: amount.Int64, Currency: cur}
		if bcur.Valid {
			got.Currency = bcur.String
		}
		if got != l {
			rep.Mismatches = append(rep.Mismatches, ledger.Mismatch{Kind: ledger.MismatchAIS, ID: id, Want: l, Got: got})
		}
	}
	if err := rows.Close(); err != nil {
		return wrap(err, "AIS balances")
	}
	return nil
}
