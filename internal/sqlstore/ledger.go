package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/obank/obank/ledger"
	"github.com/obank/obank/ob"
)

// The ledger (ledger.Store).
//
// Concurrency. Post locks the ledger_accounts rows of the entry's accounts
// one by one in sorted id order (SELECT ... FOR UPDATE on PostgreSQL, at the
// default READ COMMITTED isolation), reads their balances, checks the
// limits, and writes the postings and the new balances before it commits.
// Two payments touching the same account therefore run one after the other
// on that account, the second reading the balance the first committed; the
// fixed order means they never deadlock. On SQLite the writer connection
// is single and its transactions are BEGIN IMMEDIATE, so the whole
// read-modify-write is serialised by the database's write lock. Row locks
// were chosen over SERIALIZABLE because a hot account (the settlement
// account, a merchant) makes serializable transactions fail and retry in
// storms; the transaction is still retried on 40001/40P01 (up to
// ledgerRetries times) so that extra work passed to PostWith may touch rows
// in any order without surfacing a deadlock to the caller.
//
// What one posting transaction writes: the entry, its postings, the
// ledger_accounts balances, and for customer accounts the AIS view: the
// newest InterimBooked and InterimAvailable rows of balances move by the
// same amount (so AIS balances stay exactly in step, see Verify) and one
// Booked AIS transaction per posting with its BalanceAfter, inserted through
// importData, which keeps transaction_stats in step (addTxStats).

var _ ledger.Store = (*Store)(nil)

// ledgerRetries bounds the attempts of a ledger transaction that PostgreSQL
// aborted as a serialization failure or deadlock victim.
const ledgerRetries = 8

// LedgerHook is extra work done in the database transaction of a posting,
// after the ledger's own writes (or, when the entry was refused for funds,
// instead of them: out.Refused is then set and nothing of the ledger was
// written). Returning an error rolls everything back, the postings too.
//
// It is the seam the payments store uses to write a payment's status change
// and its idempotency key in the same transaction as the money movement:
//
//	out, err := s.PostWith(ctx, entry, func(ctx context.Context, tx *sql.Tx, out ledger.Outcome) error {
//		status := "AcceptedSettlementCompleted"
//		if out.Refused != nil {
//			status = "Rejected"
//		}
//		return writePayment(ctx, tx, p, status, idempotencyKey)
//	})
//
// The hook must use tx only (on SQLite the writer has one connection, so
// touching s.w would wait forever) and must have no effect outside the
// database: on PostgreSQL the whole transaction, hook included, is re-run
// when it is aborted as a serialization failure or a deadlock victim.
type LedgerHook = func(ctx context.Context, tx *sql.Tx, out ledger.Outcome) error

// Post validates e and posts it; see ledger.Store. A refusal for funds is
// returned as the error (wrapping ledger.ErrInsufficientFunds) with
// out.Refused set.
func (s *Store) Post(ctx context.Context, e ledger.Entry) (ledger.Outcome, error) {
	out, err := s.PostWith(ctx, e, nil)
	if err == nil && out.Refused != nil {
		err = out.Refused
	}
	return out, err
}

// PostWith is Post with extra work in the same database transaction (see
// LedgerHook; also may be nil). Its error is non-nil only when nothing was
// committed: an invalid entry, an unknown account, a duplicate entry id
// (ob.ErrConflict), the hook's error or a database failure. A refusal for
// funds is an outcome, not an error: out.Refused is set, the hook ran, and
// what it wrote is committed.
func (s *Store) PostWith(ctx context.Context, e ledger.Entry, also LedgerHook) (ledger.Outcome, error) {
	if err := e.Validate(); err != nil {
		return ledger.Outcome{EntryID: e.ID}, err
	}
	e.At = e.At.UTC()
	var out ledger.Outcome
	err := s.ledgerTx(ctx, func(tx *sql.Tx) error {
		var err error
		if out, err = s.postTx(ctx, tx, &e, true); err != nil {
			return err
		}
		if also != nil {
			return also(ctx, tx, out)
		}
		if out.Refused != nil {
			return errRollback
		}
		return nil
	})
	if errors.Is(err, errRollback) {
		err = nil
	}
	if err != nil {
		return ledger.Outcome{EntryID: e.ID}, err
	}
	return out, nil
}

// errRollback makes ledgerTx roll back without reporting an error.
var errRollback = errors.New("sqlstore: rollback")

// ledgerTx runs fn in a write transaction, committing when it returns nil,
// and re-runs it when PostgreSQL aborts it as a serialization failure or a
// deadlock victim.
func (s *Store) ledgerTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.ledgerTxOnce(ctx, fn)
		if err == nil || !retryable(err) || attempt == ledgerRetries {
			return err
		}
		// Back off a little, randomly, so the retried transactions do not
		// meet again at once.
		d := time.Duration(rand.Int64N(int64(attempt)*int64(2*time.Millisecond))) + time.Millisecond
		select {
		case <-ctx.Done():
			return err
		case <-time.After(d):
		}
	}
}

func (s *Store) ledgerTxOnce(ctx context.Context, fn func(tx *sql.Tx) error) error {
	// The ledger's transactions are the bank's busiest writes: let the
	// driver send their statements together (see HoldWrites).
	tx, err := s.w.BeginTx(HoldWrites(ctx), nil)
	if err != nil {
		return fmt.Errorf("sqlstore: ledger: begin: %w", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return s.wrapErr(err, "ledger: commit")
	}
	return nil
}

// retryable reports whether err is PostgreSQL's serialization_failure
// (40001) or deadlock_detected (40P01). The driver's error is recognised by
// its SQLState method, so this file needs no driver import.
func retryable(err error) bool {
	var st interface{ SQLState() string }
	if !errors.As(err, &st) {
		return false
	}
	code := st.SQLState()
	return code == "40001" || code == "40P01"
}

// ledgerAccountCols are the columns scanLedgerAccount reads.
const ledgerAccountCols = `id, kind, currency, balance_minor, overdraft_limit`

func scanLedgerAccount(sc scanner) (ledger.Account, error) {
	var (
		a     ledger.Account
		limit sql.NullInt64
	)
	if err := sc.Scan(&a.ID, &a.Kind, &a.Currency, &a.Balance.Minor, &limit); err != nil {
		return a, err
	}
	a.Balance.Currency = a.Currency
	if limit.Valid {
		a.Limit = &limit.Int64
	}
	return a, nil
}

// LedgerAccount returns one ledger account.
func (s *Store) LedgerAccount(ctx context.Context, id string) (ledger.Account, error) {
	a, err := scanLedgerAccount(s.r.QueryRowContext(ctx,
		`SELECT `+ledgerAccountCols+` FROM ledger_accounts WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return a, ledger.UnknownAccountf("account %q", id)
	}
	if err != nil {
		return a, s.wrapErr(err, "ledger account %q", id)
	}
	return a, nil
}

// postTx writes the validated entry e in tx. It returns an outcome with
// Refused set, having written nothing, when a limit refuses it. With ais
// false it leaves the AIS balances and transactions alone (opening
// entries, whose amounts the AIS view already shows).
func (s *Store) postTx(ctx context.Context, tx *sql.Tx, e *ledger.Entry, ais bool) (ledger.Outcome, error) {
	out := ledger.Outcome{EntryID: e.ID}
	ids := e.AccountIDs()
	now := micros(e.At)

	// The bank's own accounts exist from their first use.
	for _, id := range ids {
		kind, cur, ok := ledger.BankAccount(id)
		if !ok {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO ledger_accounts
			(id, kind, currency, balance_minor, overdraft_limit, created_at, updated_at)
			VALUES ($1, $2, $3, 0, NULL, $4, $4) ON CONFLICT (id) DO NOTHING`, id, kind, cur, now); err != nil {
			return out, s.wrapErr(err, "ledger: create %s", id)
		}
	}

	// Lock and read the accounts in sorted order, in one statement: on
	// PostgreSQL the locking step sits above the sort, so rows are locked
	// in id order, the order every entry uses, and two entries never wait
	// on each other in a cycle.
	//
	// The same statement asks whether the entry exists: a retry of one
	// that committed is refused before anything is written. It reads the
	// statement's snapshot, taken before any lock wait, so an entry of the
	// same id committed by a post holding these accounts meanwhile is not
	// seen; the primary key refuses that one at the insert, as
	// ob.ErrConflict too (at the commit on PostgreSQL, see HoldWrites).
	accounts := make(map[string]ledger.Account, len(ids))
	var (
		lock params
		dup  int
	)
	rows, err := tx.QueryContext(ctx, `SELECT `+ledgerAccountCols+`, (SELECT COUNT(*) FROM ledger_entries WHERE id = `+
		lock.add(e.ID)+`) FROM ledger_accounts WHERE id IN `+lock.in(ids)+` ORDER BY id`+s.forUpdate(false), lock...)
	if err != nil {
		return out, s.wrapErr(err, "ledger: lock accounts")
	}
	for rows.Next() {
		a, err := scanLedgerAccount(extraScanner{rows: rows, after: []any{&dup}})
		if err != nil {
			rows.Close()
			return out, s.wrapErr(err, "ledger: lock accounts")
		}
		accounts[a.ID] = a
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return out, s.wrapErr(err, "ledger: lock accounts")
	}
	if dup > 0 {
		return out, fmt.Errorf("sqlstore: ledger: entry %s: %w", e.ID, ob.ErrConflict)
	}
	for _, id := range ids {
		if _, ok := accounts[id]; !ok {
			return out, ledger.UnknownAccountf("entry %s: account %q", e.ID, id)
		}
	}

	// Net change per account, and the limits.
	delta := make(map[string]int64, len(ids))
	for i, p := range e.Postings {
		a := accounts[p.AccountID]
		if p.Amount.Currency != a.Currency {
			return out, ledger.CurrencyMismatchf("entry %s posting %d: %s to %s account %s",
				e.ID, i, p.Amount.Currency, a.Currency, a.ID)
		}
		delta[p.AccountID] += p.Amount.Minor
	}
	for _, id := range ids {
		if a := accounts[id]; !a.Allows(delta[id]) {
			out.Refused = ledger.Refusedf("entry %s: account %s has %s, limit %d, cannot take %s",
				e.ID, id, a.Balance, *a.Limit, ob.Money{Minor: delta[id], Currency: a.Currency})
			return out, nil
		}
	}

	if _, err := tx.ExecContext(ctx, `INSERT INTO ledger_entries (id, kind, reference, at) VALUES ($1, $2, $3, $4)`,
		e.ID, e.Kind, e.Reference, now); err != nil {
		return out, s.wrapErr(err, "ledger: entry %s", e.ID)
	}
	// The postings in one statement, and the balances in another: every
	// statement here runs while the accounts are locked.
	var post params
	values := make([]string, len(e.Postings))
	for i, p := range e.Postings {
		values[i] = "(" + post.add(e.ID) + ", " + post.add(i) + ", " + post.add(p.AccountID) + ", " +
			post.add(p.Amount.Minor) + ", " + post.add(p.Amount.Currency) + ")"
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO ledger_postings (entry_id, n, account_id, amount_minor, currency)
		VALUES `+strings.Join(values, ", "), post...); err != nil {
		return out, s.wrapErr(err, "ledger: entry %s postings", e.ID)
	}
	out.Balances = make(map[string]ob.Money, len(ids))
	var (
		bal   params
		cases strings.Builder
	)
	for _, id := range ids {
		a := accounts[id]
		nb := a.Balance.Minor + delta[id]
		// The CAST tells PostgreSQL the parameter's type, which a CASE
		// branch does not.
		cases.WriteString(" WHEN " + bal.add(id) + " THEN CAST(" + bal.add(nb) + " AS BIGINT)")
		out.Balances[id] = ob.Money{Minor: nb, Currency: a.Currency}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE ledger_accounts SET balance_minor = CASE id`+cases.String()+` END,
		updated_at = `+bal.add(now)+` WHERE id IN `+bal.in(ids), bal...); err != nil {
		return out, s.wrapErr(err, "ledger: balances of entry %s", e.ID)
	}
	if ais {
		if err := s.postAIS(ctx, tx, e, accounts, delta); err != nil {
			return out, err
		}
	}
	out.Posted = true
	return out, nil
}

// postAIS moves the AIS balances of the entry's customer accounts and
// inserts their transactions.
func (s *Store) postAIS(ctx context.Context, tx *sql.Tx, e *ledger.Entry, accounts map[string]ledger.Account,
	delta map[string]int64) error {
	now := micros(e.At)
	running := make(map[string]int64)
	var txs []ob.Transaction
	for i, p := range e.Postings {
		a := accounts[p.AccountID]
		if a.Kind != ledger.KindCustomer {
			continue
		}
		bal, ok := running[a.ID]
		if !ok {
			bal = a.Balance.Minor
		}
		bal += p.Amount.Minor
		running[a.ID] = bal
		var t ob.Transaction
		if p.Tx != nil {
			t = *p.Tx
		}
		if t.ID == "" {
			t.ID = fmt.Sprintf("%s-%d", e.ID, i)
		}
		if t.Reference == "" {
			t.Reference = e.Reference
		}
		t.AccountID, t.Amount, t.Status, t.BookingDateTime = a.ID, p.Amount, ob.TxBooked, e.At
		if t.Mutability == "" {
			t.Mutability = "Immutable"
		}
		t.BalanceAfter = &ob.Money{Minor: bal, Currency: a.Currency}
		txs = append(txs, t)
	}
	for _, id := range e.AccountIDs() {
		a := accounts[id]
		if a.Kind != ledger.KindCustomer {
			continue
		}
		// The newest InterimBooked and InterimAvailable move by the delta;
		// an account without either gets both. Two statements that return
		// nothing the code waits for, so that PostgreSQL's driver can hold
		// them with the rest of the entry (see HoldWrites).
		if _, err := tx.ExecContext(ctx, `UPDATE balances SET amount_minor = amount_minor + $1,
				date_time = CASE WHEN date_time < $2 THEN $2 ELSE date_time END
			WHERE account_id = $3 AND type IN ($4, $5)
			AND date_time = (SELECT MAX(b.date_time) FROM balances b
				WHERE b.account_id = balances.account_id AND b.type = balances.type)`,
			delta[id], now, id, ob.BalanceInterimBooked, ob.BalanceInterimAvailable); err != nil {
			return s.wrapErr(err, "ledger: AIS balances of %s", id)
		}
		booked := a.Balance.Minor + delta[id]
		avail := booked
		if a.Limit != nil {
			avail += *a.Limit
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO balances (account_id, type, date_time, amount_minor, currency)
			SELECT * FROM (VALUES ($1, $2, CAST($3 AS BIGINT), CAST($4 AS BIGINT), $5),
				($1, $6, CAST($3 AS BIGINT), CAST($7 AS BIGINT), $5)) AS v
			WHERE NOT EXISTS (SELECT 1 FROM balances WHERE account_id = $1 AND type IN ($2, $6))`,
			id, ob.BalanceInterimBooked, now, booked, a.Currency, ob.BalanceInterimAvailable, avail); err != nil {
			return s.wrapErr(err, "ledger: AIS balances of %s", id)
		}
	}
	if len(txs) > 0 {
		// importData is the AIS insert path: it writes the rows and their
		// transaction_stats in this transaction.
		if err := s.importData(ctx, tx, &ob.BankData{Transactions: txs}); err != nil {
			return err
		}
	}
	return nil
}

// OpenLedger opens every customer account that is not in the ledger yet;
// see ledger.Store. The opening balance is the account's newest
// InterimBooked balance (zero without one: no entry is written), its limit
// the sum of the credit lines included in its newest InterimAvailable
// balance. The counterpart is EquityAccount of the currency.
func (s *Store) OpenLedger(ctx context.Context, at time.Time) (int, error) {
	var opened int
	err := s.ledgerTx(ctx, func(tx *sql.Tx) error {
		var err error
		opened, err = s.openLedger(ctx, tx, at.UTC())
		return err
	})
	if err != nil {
		return 0, err
	}
	return opened, nil
}

type openingAccount struct {
	id, currency      string
	booked, bookedAt  int64
	hasBooked         bool
	limit, limitAt    int64
	hasLimit          bool
	bookedCurrency    string
	availableCurrency string
}

func (s *Store) openLedger(ctx context.Context, tx *sql.Tx, at time.Time) (int, error) {
	rows, err := tx.QueryContext(ctx, `SELECT a.id, a.currency FROM accounts a
		WHERE NOT EXISTS (SELECT 1 FROM ledger_accounts l WHERE l.id = a.id) ORDER BY a.id`)
	if err != nil {
		return 0, s.wrapErr(err, "ledger: open")
	}
	var list []*openingAccount
	byID := map[string]*openingAccount{}
	for rows.Next() {
		o := &openingAccount{}
		if err := rows.Scan(&o.id, &o.currency); err != nil {
			rows.Close()
			return 0, s.wrapErr(err, "ledger: open")
		}
		list = append(list, o)
		byID[o.id] = o
	}
	if err := rows.Close(); err != nil {
		return 0, s.wrapErr(err, "ledger: open")
	}
	if len(list) == 0 {
		return 0, nil
	}

	rows, err = tx.QueryContext(ctx, `SELECT b.account_id, b.type, b.date_time, b.amount_minor, b.currency, b.credit_lines
		FROM balances b WHERE b.type IN ($1, $2)
		AND NOT EXISTS (SELECT 1 FROM ledger_accounts l WHERE l.id = b.account_id)`,
		ob.BalanceInterimBooked, ob.BalanceInterimAvailable)
	if err != nil {
		return 0, s.wrapErr(err, "ledger: open balances")
	}
	for rows.Next() {
		var (
			id, typ, cur string
			t, amount    int64
			lines        sql.NullString
		)
		if err := rows.Scan(&id, &typ, &t, &amount, &cur, &lines); err != nil {
			rows.Close()
			return 0, s.wrapErr(err, "ledger: open balances")
		}
		o := byID[id]
		if o == nil {
			continue
		}
		switch typ {
		case ob.BalanceInterimBooked:
			if !o.hasBooked || t > o.bookedAt {
				o.booked, o.bookedAt, o.hasBooked, o.bookedCurrency = amount, t, true, cur
			}
		case ob.BalanceInterimAvailable:
			if o.hasLimit && t <= o.limitAt {
				continue
			}
			var cls []creditLineJSON
			if err := decodeCol(lines, &cls); err != nil {
				rows.Close()
				return 0, fmt.Errorf("sqlstore: ledger: open %s: credit lines: %w", id, err)
			}
			var limit int64
			for _, cl := range creditLinesDomain(cls) {
				if cl.Included && cl.Amount != nil && cl.Amount.Currency == o.currency && cl.Amount.Minor > 0 {
					limit += cl.Amount.Minor
				}
			}
			o.limit, o.limitAt, o.hasLimit, o.availableCurrency = limit, t, true, cur
		}
	}
	if err := rows.Close(); err != nil {
		return 0, s.wrapErr(err, "ledger: open balances")
	}

	now := micros(at)
	// The equity accounts exist before the postings that name them.
	currencies := map[string]bool{}
	for _, o := range list {
		if o.booked != 0 {
			currencies[o.currency] = true
		}
	}
	for _, cur := range slices.Sorted(maps.Keys(currencies)) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO ledger_accounts
			(id, kind, currency, balance_minor, overdraft_limit, created_at, updated_at)
			VALUES ($1, $2, $3, 0, NULL, $4, $4) ON CONFLICT (id) DO NOTHING`,
			ledger.EquityAccount(cur), ledger.KindEquity, cur, now); err != nil {
			return 0, s.wrapErr(err, "ledger: open: equity %s", cur)
		}
	}
	equity := map[string]int64{}
	opened := 0
	for _, o := range list {
		if o.hasBooked && o.bookedCurrency != o.currency {
			return 0, ledger.CurrencyMismatchf("open %s: InterimBooked in %s, account in %s", o.id, o.bookedCurrency, o.currency)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO ledger_accounts
			(id, kind, currency, balance_minor, overdraft_limit, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (id) DO NOTHING`,
			o.id, ledger.KindCustomer, o.currency, o.booked, o.limit, now)
		if err != nil {
			return 0, s.wrapErr(err, "ledger: open %s", o.id)
		}
		if n, err := res.RowsAffected(); err != nil {
			return 0, s.wrapErr(err, "ledger: open %s", o.id)
		} else if n == 0 {
			continue // opened meanwhile by another process
		}
		opened++
		if o.booked == 0 {
			continue
		}
		entry := ledger.OpeningEntryID(o.id)
		if _, err := tx.ExecContext(ctx, `INSERT INTO ledger_entries (id, kind, reference, at) VALUES ($1, $2, $3, $4)`,
			entry, ledger.EntryOpening, "Opening balance", now); err != nil {
			return 0, s.wrapErr(err, "ledger: open %s", o.id)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO ledger_postings (entry_id, n, account_id, amount_minor, currency)
			VALUES ($1, 0, $2, $3, $4), ($1, 1, $5, $6, $4)`,
			entry, o.id, o.booked, o.currency, ledger.EquityAccount(o.currency), -o.booked); err != nil {
			return 0, s.wrapErr(err, "ledger: open %s", o.id)
		}
		equity[o.currency] -= o.booked
	}
	for _, cur := range slices.Sorted(maps.Keys(equity)) {
		id := ledger.EquityAccount(cur)
		if _, err := tx.ExecContext(ctx, `UPDATE ledger_accounts SET balance_minor = balance_minor + $1, updated_at = $2
			WHERE id = $3`, equity[cur], now, id); err != nil {
			return 0, s.wrapErr(err, "ledger: open %s", id)
		}
	}
	return opened, nil
}
