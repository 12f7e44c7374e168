package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/obank/obank/ob"
	"github.com/obank/obank/payments"
	"github.com/obank/obank/payments/risk"
)

// This file is payments.PaymentStore; payments_tx.go is its unit of work,
// payments.Tx.
//
// Transactions. Idempotent and RunDue open one write transaction per
// payment and hand it to the payment service as a payments.Tx, whose
// methods write through it only (on SQLite the writer has one connection:
// touching s.w inside would wait forever). Both run through ledgerTx, so on
// PostgreSQL a transaction aborted as a serialization failure or deadlock
// victim is re-run from the start, callback included; at READ COMMITTED
// with the ledger's sorted row locks that is rare, but a payment's
// transaction locks its consent and payment rows too, in the service's
// order.
//
// Scheduling. RunDue claims one due payment per transaction, oldest first,
// with FOR UPDATE SKIP LOCKED on PostgreSQL: instances running it at once
// take different payments and never wait on each other. On SQLite the
// single IMMEDIATE writer serialises them; each sees what the previous one
// committed. Either way the callback must move next_run_at on (or clear
// it), which is what makes the next claim skip the payment.

var _ payments.PaymentStore = (*Store)(nil)

const paymentCols = `id, kind, consent_id, tpp_id, customer_id, debtor_account_id, status, status_reason,
	creation_time, status_update_time, initiation, amount_minor, currency, assessment, next_run_at, runs_done`

// paymentArgs returns the bind arguments of paymentCols, in order.
func paymentArgs(p payments.Payment) ([]any, error) {
	var e jsonEnc
	assessment := e.col(p.Assessment)
	if e.err != nil {
		return nil, e.err
	}
	// The Initiation is stored as sent, not re-encoded: it is the bytes the
	// order was matched against.
	return []any{p.ID, string(p.Kind), p.ConsentID, p.TPPID, p.CustomerID, p.DebtorAccountID,
		string(p.Status), p.StatusReason, micros(p.CreationDateTime), micros(p.StatusUpdateDateTime),
		string(p.Initiation), p.Amount.Minor, p.Amount.Currency, assessment, nullMicros(p.NextRunAt),
		p.RunsDone}, nil
}

// scanPayment reads one row of paymentCols.
func scanPayment(sc scanner) (payments.Payment, error) {
	var (
		p                  payments.Payment
		kind, status, init string
		created, updated   int64
		assessment         sql.NullString
		next               sql.NullInt64
	)
	err := sc.Scan(&p.ID, &kind, &p.ConsentID, &p.TPPID, &p.CustomerID, &p.DebtorAccountID, &status,
		&p.StatusReason, &created, &updated, &init, &p.Amount.Minor, &p.Amount.Currency, &assessment,
		&next, &p.RunsDone)
	if err != nil {
		return p, err
	}
	p.Kind, p.Status = ob.ConsentKind(kind), payments.Status(status)
	p.CreationDateTime, p.StatusUpdateDateTime = fromMicros(created), fromMicros(updated)
	if init != "" {
		p.Initiation = []byte(init)
	}
	var a *risk.Assessment
	if err := decodeCol(assessment, &a); err != nil {
		return p, err
	}
	p.Assessment = a
	p.NextRunAt = timePtr(next)
	return p, nil
}

// findPayment loads one payment, with lock appended to the query.
func findPayment(ctx context.Context, q querier, id, lock string) (payments.Payment, error) {
	p, err := scanPayment(q.QueryRowContext(ctx, `SELECT `+paymentCols+` FROM payments WHERE id = $1`+lock, id))
	if errors.Is(err, sql.ErrNoRows) {
		return payments.Payment{}, ob.ErrNotFound
	}
	return p, err
}

// Payment returns a payment order; ob.ErrNotFound for an unknown id.
func (s *Store) Payment(ctx context.Context, id string) (payments.Payment, error) {
	p, err := findPayment(ctx, s.r, id, "")
	if err != nil {
		return payments.Payment{}, s.wrapErr(err, "payment %q", id)
	}
	return p, nil
}

// Executions returns a payment's executions ordered by N; none (and no
// error) for an unknown payment.
func (s *Store) Executions(ctx context.Context, paymentID string) ([]payments.Execution, error) {
	xs, err := queryAll(ctx, s.r, func(sc scanner) (payments.Execution, error) {
		var (
			x      payments.Execution
			at     int64
			status string
		)
		err := sc.Scan(&x.PaymentID, &x.N, &x.EntryID, &at, &x.Amount.Minor, &x.Amount.Currency, &status, &x.Reason)
		x.At, x.Status = fromMicros(at), payments.Status(status)
		return x, err
	}, `SELECT payment_id, n, entry_id, at, amount_minor, currency, status, reason
		FROM payment_executions WHERE payment_id = $1 ORDER BY n`, paymentID)
	if err != nil {
		return nil, s.wrapErr(err, "executions of payment %q", paymentID)
	}
	return xs, nil
}

// TPPPaymentStats counts the payment orders tppID submitted at or after
// since, and those of them that were rejected: status Rejected (a domestic
// payment) or InitiationFailed (the rejection status of scheduled payments
// and standing orders, which use the initiation statuses).
func (s *Store) TPPPaymentStats(ctx context.Context, tppID string, since time.Time) (submitted, rejected int, err error) {
	err = s.r.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN status IN ($3, $4) THEN 1 ELSE 0 END), 0)
		FROM payments WHERE tpp_id = $1 AND creation_time >= $2`,
		tppID, micros(since), string(payments.StatusRejected), string(payments.StatusInitiationFailed)).
		Scan(&submitted, &rejected)
	if err != nil {
		return 0, 0, s.wrapErr(err, "payment stats of %q", tppID)
	}
	return submitted, rejected, nil
}

// identifierKey is the stored form of an account identification's lookup
// key: the UK.OBIE.* scheme name and the identification upper-cased.
func identifierKey(scheme, identification string) (string, string) {
	return payments.NormaliseScheme(scheme), strings.ToUpper(identification)
}

// RiskHistory returns the account's newest debits since a time, at most
// limit, in no particular order, and its beneficiaries' creditor accounts;
// see payments.PaymentStore. Risk scoring runs it for every payment consent
// and payment, so it is one statement that reads little: the debits' short
// risk records (migration 0012) as one value, and the creditor accounts as
// their JSON texts, one a line (compact JSON has no raw newline). Debits
// written before the risk column existed have none; when any of the newest
// is one of them, their full records are read instead (a second
// statement, until they age out of the window).
func (s *Store) RiskHistory(ctx context.Context, accountID string, since time.Time, limit int) (payments.RiskHistory, error) {
	var (
		h               payments.RiskHistory
		risks, accounts string
		withoutRisk     int64
	)
	limit = max(limit, 0)
	err := s.r.QueryRowContext(ctx, `SELECT COALESCE(string_agg(risk, ''), ''), COUNT(*) - COUNT(risk),
			(SELECT COALESCE(string_agg(creditor_account, $4), '') FROM beneficiaries
				WHERE account_id = $1 AND creditor_account IS NOT NULL)
		FROM (SELECT risk FROM transactions WHERE account_id = $1 AND booking_time >= $2 AND amount_minor < 0
			ORDER BY booking_time DESC, id DESC LIMIT $3) AS debits`,
		accountID, micros(since), limit, "\n").Scan(&risks, &withoutRisk, &accounts)
	if err != nil {
		return h, s.wrapErr(err, "risk history of %q", accountID)
	}
	h.Debits = make([]payments.PastDebit, 0, min(limit, 256))
	if withoutRisk == 0 {
		h.Debits, err = decodeRiskRecords(risks, h.Debits)
	} else {
		h.Debits, err = s.debitsFromRecords(ctx, accountID, since, limit, h.Debits)
	}
	if err != nil {
		return h, s.wrapErr(err, "risk history of %q", accountID)
	}
	for line := range strings.SplitSeq(accounts, "\n") {
		var a *accountIDJSON
		if err := decodeCol(sql.NullString{String: line, Valid: line != ""}, &a); err != nil {
			return h, s.wrapErr(err, "risk history of %q: a beneficiary", accountID)
		}
		if id := a.domain(); id != nil {
			h.SavedPayees = append(h.SavedPayees, *id)
		}
	}
	return h, nil
}

// BackfillAllRiskRecords runs BackfillRiskRecords in batches until no
// debit is left without its risk record, or ctx ends, and returns how many
// it filled. serve runs it in the background at start.
func (s *Store) BackfillAllRiskRecords(ctx context.Context, batch int) (int, error) {
	total := 0
	var after int64
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n, next, err := s.BackfillRiskRecords(ctx, after, batch)
		total += n
		if err != nil || next == after {
			return total, err
		}
		after = next
	}
}

// BackfillRiskRecords gives up to limit debits written before the risk
// column existed (migration 0012) their risk record, decoded from rec, and
// returns how many it filled; 0 means none is left. It walks the table in
// seq order from after, and returns where it stopped, so that a caller
// draining the backlog reads every row once. Several instances may run it
// at once: a row another one filled meanwhile is left as it is.
func (s *Store) BackfillRiskRecords(ctx context.Context, after int64, limit int) (filled int, next int64, err error) {
	if limit <= 0 {
		limit = 1000
	}
	rows, err := s.r.QueryContext(ctx, `SELECT seq, id, rec FROM transactions
		WHERE seq > $1 AND amount_minor < 0 AND risk IS NULL ORDER BY seq LIMIT $2`, after, limit)
	if err != nil {
		return 0, after, s.wrapErr(err, "backfill risk records")
	}
	type fill struct{ id, risk string }
	var (
		fills []fill
		sc    txScratch
	)
	next = after
	for rows.Next() {
		var (
			seq     int64
			id, rec string
		)
		if err := rows.Scan(&seq, &id, &rec); err != nil {
			rows.Close()
			return 0, after, s.wrapErr(err, "backfill risk records")
		}
		next = seq
		d := partsDec{s: rec}
		body := d.field()
		if d.bad || d.s != "" {
			rows.Close()
			return 0, after, s.wrapErr(errTxParts, "backfill risk record of transaction %q", id)
		}
		t, _, err := sc.decode(body)
		if err != nil {
			rows.Close()
			return 0, after, s.wrapErr(err, "backfill risk record of transaction %q", id)
		}
		if r, ok := encodeRiskRecord(t).(string); ok {
			fills = append(fills, fill{id: id, risk: r})
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return 0, after, s.wrapErr(err, "backfill risk records")
	}
	if len(fills) == 0 {
		return 0, next, nil
	}
	// One transaction; on PostgreSQL its statements go out together
	// (HoldWrites).
	tx, err := s.w.BeginTx(HoldWrites(ctx), nil)
	if err != nil {
		return 0, after, s.wrapErr(err, "backfill risk records")
	}
	defer tx.Rollback()
	for _, f := range fills {
		if _, err := tx.ExecContext(ctx, `UPDATE transactions SET risk = $2 WHERE id = $1 AND risk IS NULL`,
			f.id, f.risk); err != nil {
			return 0, after, s.wrapErr(err, "backfill risk record of transaction %q", f.id)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, after, s.wrapErr(err, "backfill risk records: commit")
	}
	return len(fills), next, nil
}

// debitsFromRecords reads RiskHistory's debits from their full records,
// decoding each into one scratch transaction and keeping what scoring
// reads.
func (s *Store) debitsFromRecords(ctx context.Context, accountID string, since time.Time, limit int,
	ds []payments.PastDebit) ([]payments.PastDebit, error) {
	var recs string
	if err := s.r.QueryRowContext(ctx, `SELECT COALESCE(string_agg(rec, ''), '') FROM
		(SELECT rec FROM transactions WHERE account_id = $1 AND booking_time >= $2 AND amount_minor < 0
		ORDER BY booking_time DESC, id DESC LIMIT $3) AS debits`, accountID, micros(since), limit).Scan(&recs); err != nil {
		return ds, err
	}
	var sc txScratch
	for d := (partsDec{s: recs}); d.s != ""; {
		rec := d.field()
		if d.bad {
			return ds, errTxParts
		}
		t, _, err := sc.decode(rec)
		if err != nil {
			return ds, err
		}
		pd := payments.PastDebit{At: t.BookingDateTime, Amount: t.Amount}
		if c := t.CreditorAccount; c != nil {
			pd.CreditorScheme, pd.CreditorIdentification = c.SchemeName, c.Identification
		}
		ds = append(ds, pd)
	}
	return ds, nil
}

// PaymentAccounts returns the debtor account and the bank's account with
// the creditor's identification in one statement; see
// payments.PaymentStore.
func (s *Store) PaymentAccounts(ctx context.Context, debtorID, scheme, identification string) (ob.Account, *ob.Account, error) {
	scheme, identification = identifierKey(scheme, identification)
	rows, err := s.r.QueryContext(ctx, `SELECT 0, `+accountCols+` FROM accounts WHERE id = $1
		UNION ALL
		SELECT 1, `+accountCols+` FROM accounts
		WHERE id = (SELECT account_id FROM account_identifiers WHERE scheme = $2 AND identification = $3)`,
		debtorID, scheme, identification)
	if err != nil {
		return ob.Account{}, nil, s.wrapErr(err, "accounts of a payment from %q", debtorID)
	}
	defer rows.Close()
	var (
		debtor   ob.Account
		creditor *ob.Account
		found    bool
	)
	for rows.Next() {
		var which int
		a, err := scanAccount(extraScanner{rows: rows, before: []any{&which}})
		if err != nil {
			return ob.Account{}, nil, s.wrapErr(err, "accounts of a payment from %q", debtorID)
		}
		if which == 0 {
			debtor, found = a, true
		} else {
			creditor = &a
		}
	}
	if err := rows.Err(); err != nil {
		return ob.Account{}, nil, s.wrapErr(err, "accounts of a payment from %q", debtorID)
	}
	if !found {
		return ob.Account{}, nil, fmt.Errorf("sqlstore: debtor account %q: %w", debtorID, ob.ErrNotFound)
	}
	return debtor, creditor, nil
}

// importIdentifiers indexes the identifications of newly imported accounts
// in tx (Import's step for account_identifiers). An identification that
// another account holds already, in the store or earlier in accounts, stays
// with that account: it should not happen, and refusing the whole import
// for it would be worse than keeping the first.
func (s *Store) importIdentifiers(ctx context.Context, tx *sql.Tx, accounts []ob.Account) error {
	if len(accounts) == 0 {
		return nil
	}
	ins := newInserter(tx, s.dialect, "account_identifiers", []string{"scheme", "identification", "account_id"})
	ins.suffix = " ON CONFLICT DO NOTHING"
	defer ins.close()
	seen := make(map[[2]string]bool)
	for _, a := range accounts {
		for _, id := range a.Identifications {
			scheme, ident := identifierKey(id.SchemeName, id.Identification)
			k := [2]string{scheme, ident}
			if scheme == "" || ident == "" || seen[k] {
				continue
			}
			seen[k] = true
			if err := ins.add(ctx, scheme, ident, a.ID); err != nil {
				return s.wrapErr(err, "import account_identifiers")
			}
		}
	}
	if err := ins.flush(ctx); err != nil {
		return s.wrapErr(err, "import account_identifiers")
	}
	return nil
}

// RecordFundsConfirmation stores the answer to a CBPII's funds check;
// ob.ErrConflict when the id exists.
func (s *Store) RecordFundsConfirmation(ctx context.Context, fc payments.FundsConfirmation) error {
	available := 0
	if fc.Available {
		available = 1
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO funds_confirmations (id, consent_id, tpp_id, creation_time,
		reference, amount_minor, currency, available) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		fc.ID, fc.ConsentID, fc.TPPID, micros(fc.CreationDateTime), fc.Reference, fc.Amount.Minor,
		fc.Amount.Currency, available)
	if err != nil {
		return s.wrapErr(err, "record funds confirmation %q", fc.ID)
	}
	return nil
}

// Idempotent claims key and runs create in the same write transaction; see
// payments.PaymentStore. The key is recorded with the resource id and
// status 201 and no response body: the payment API answers a replay with
// the resource's current state, read by id.
func (s *Store) Idempotent(ctx context.Context, key payments.IdempotencyKey,
	create func(ctx context.Context, tx payments.Tx) (string, error)) (resourceID string, replayed bool, err error) {
	req := IdempotencyRequest{TPPID: key.TPPID, Key: key.Key, RequestHash: key.RequestHash, Kind: key.Kind, Now: key.Now}
	if err := req.validate(); err != nil {
		return "", false, err
	}
	err = s.ledgerTx(ctx, func(tx *sql.Tx) error {
		// Each attempt starts afresh: a re-run must not see the last one's
		// result.
		resourceID, replayed = "", false
		res, live, err := s.idempotentIn(ctx, tx, req, func(tx *sql.Tx) (IdempotentResult, error) {
			id, err := create(ctx, &paymentTx{s: s, tx: tx})
			return IdempotentResult{ResourceID: id}, err
		})
		if err != nil {
			return err
		}
		resourceID, replayed = res.ResourceID, live
		if live {
			// Nothing was written; end the transaction without a commit.
			return errRollback
		}
		return nil
	})
	if errors.Is(err, errRollback) {
		err = nil
	}
	if err != nil {
		return "", false, err
	}
	return resourceID, replayed, nil
}

// errNoneDue ends RunDue's loop: no payment is left to run.
var errNoneDue = errors.New("sqlstore: no payment due")

// RunDue executes due payment orders, each in its own transaction; see
// payments.PaymentStore. On an error it returns the ids run (and
// committed) before it with the error.
func (s *Store) RunDue(ctx context.Context, now time.Time, limit int,
	run func(ctx context.Context, tx payments.Tx, p payments.Payment) error) ([]string, error) {
	var done, skip []string
	for len(done) < limit {
		var (
			id  string
			ran bool
		)
		err := s.ledgerTx(ctx, func(tx *sql.Tx) error {
			var err error
			id, ran, err = s.runOneDue(ctx, tx, now, skip, run)
			return err
		})
		if errors.Is(err, errNoneDue) {
			break
		}
		if err != nil {
			return done, err
		}
		skip = append(skip, id)
		if ran {
			done = append(done, id)
		}
	}
	return done, nil
}

// runOneDue claims the oldest payment due at now that is not in skip,
// locks it, and calls run with it inside tx. It returns errNoneDue when no
// payment is due, and ran false when the payment it locked turned out not
// to be due any more.
//
// skip holds the payments this RunDue has seen already: a payment that is
// still due after its run (a standing order catching up on missed dates,
// or a callback that left next_run_at alone) runs once per call rather
// than over and over. Payments another instance holds are skipped by
// SKIP LOCKED, so the loop ends when the query finds nothing else.
func (s *Store) runOneDue(ctx context.Context, tx *sql.Tx, now time.Time, skip []string,
	run func(ctx context.Context, tx payments.Tx, p payments.Payment) error) (id string, ran bool, err error) {
	p := params{micros(now)}
	query := `SELECT id FROM payments WHERE next_run_at IS NOT NULL AND next_run_at <= $1`
	if len(skip) > 0 {
		query += ` AND id NOT IN ` + p.in(skip)
	}
	query += ` ORDER BY next_run_at, id LIMIT 1` + s.forUpdate(true)
	err = tx.QueryRowContext(ctx, query, p...).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, errNoneDue
	}
	if err != nil {
		return "", false, s.wrapErr(err, "due payments")
	}
	// Locked: read it again (at READ COMMITTED this statement sees all
	// that was committed before the lock was granted) and re-check that it
	// is still due; PostgreSQL re-checks the WHERE of a row it locks, so
	// this is a backstop.
	pay, err := findPayment(ctx, tx, id, "")
	if err != nil {
		return "", false, s.wrapErr(err, "due payment %q", id)
	}
	if pay.NextRunAt == nil || pay.NextRunAt.After(now) {
		return id, false, nil
	}
	if err := run(ctx, &paymentTx{s: s, tx: tx}, pay); err != nil {
		return "", false, err
	}
	return id, true, nil
}
