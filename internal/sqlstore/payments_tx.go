package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/obank/obank/events"
	"github.com/obank/obank/ledger"
	"github.com/obank/obank/ob"
	"github.com/obank/obank/payments"
)

// paymentTx is payments.Tx: the payment service's writes inside one of the
// write transactions Idempotent and RunDue open. Every method goes through
// tx only.
//
// A new consent uses ON CONFLICT DO NOTHING and reports ob.ErrConflict
// when no row was written, rather than letting the unique violation fail the
// statement: on PostgreSQL a failed statement aborts the whole transaction,
// and the service carries on in it (answers with the existing consent). A
// payment and its executions have fresh ids under the consent's or the
// order's lock, so a collision is a bug: their plain INSERTs send nothing
// back the service waits for, which lets the PostgreSQL driver hold them
// with the transaction's other writes (see sqlstore.HoldWrites), and a
// unique violation is still ob.ErrConflict, here or at the commit.
type paymentTx struct {
	s  *Store
	tx *sql.Tx
}

var _ payments.Tx = (*paymentTx)(nil)

// insertOnce runs an INSERT ... ON CONFLICT DO NOTHING and turns "nothing
// inserted" into ob.ErrConflict.
func (t *paymentTx) insertOnce(ctx context.Context, what, query string, args ...any) error {
	res, err := t.tx.ExecContext(ctx, query, args...)
	if err != nil {
		return t.s.wrapErr(err, "%s", what)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return t.s.wrapErr(err, "%s", what)
	}
	if n == 0 {
		return fmt.Errorf("sqlstore: %s: %w", what, ob.ErrConflict)
	}
	return nil
}

// insert runs an INSERT whose unique violation is ob.ErrConflict.
func (t *paymentTx) insert(ctx context.Context, what, query string, args ...any) error {
	if _, err := t.tx.ExecContext(ctx, query, args...); err != nil {
		return t.s.wrapErr(err, "%s", what)
	}
	return nil
}

// CreateConsent stores a new consent; ob.ErrConflict when the id exists.
func (t *paymentTx) CreateConsent(ctx context.Context, c ob.Consent) error {
	args, err := consentArgs(c)
	if err != nil {
		return fmt.Errorf("sqlstore: create consent: %w", err)
	}
	return t.insertOnce(ctx, fmt.Sprintf("create consent %q", c.ID), `INSERT INTO consents (`+consentCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT DO NOTHING`, args...)
}

// LockConsent loads a consent and locks it until the transaction ends.
func (t *paymentTx) LockConsent(ctx context.Context, id string) (ob.Consent, error) {
	c, err := findConsent(ctx, t.tx, id, t.s.forUpdate(false))
	if err != nil {
		return ob.Consent{}, t.s.wrapErr(err, "lock consent %q", id)
	}
	return c, nil
}

// SaveConsent writes c, changed from before, with the grant side effects
// of UpdateConsent.
func (t *paymentTx) SaveConsent(ctx context.Context, before, c ob.Consent, now time.Time) error {
	if c.ID != before.ID {
		return fmt.Errorf("sqlstore: save consent %q: the id changed to %q", before.ID, c.ID)
	}
	if err := t.s.saveConsent(ctx, t.tx, before, c, now); err != nil {
		return t.s.wrapErr(err, "save consent %q", c.ID)
	}
	return nil
}

// Post posts a ledger entry inside the transaction. A refusal for funds is
// an outcome (Refused set, no posting written), not an error. As with
// ledger.Store.Post, the bank's own accounts the entry names are created
// before the limits are checked, so a refused entry may leave an empty
// settlement or suspense account behind; they would be created on their
// next use anyway.
func (t *paymentTx) Post(ctx context.Context, e ledger.Entry) (ledger.Outcome, error) {
	if err := e.Validate(); err != nil {
		return ledger.Outcome{EntryID: e.ID}, err
	}
	e.At = e.At.UTC()
	out, err := t.s.postTx(ctx, t.tx, &e, true)
	if err != nil {
		return ledger.Outcome{EntryID: e.ID}, err
	}
	return out, nil
}

// HasEntry reports whether the ledger holds an entry with the id.
func (t *paymentTx) HasEntry(ctx context.Context, id string) (bool, error) {
	var n int
	if err := t.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM ledger_entries WHERE id = $1`, id).Scan(&n); err != nil {
		return false, t.s.wrapErr(err, "ledger entry %q", id)
	}
	return n > 0, nil
}

// InsertPayment stores a new payment order; ob.ErrConflict when the id
// exists or the consent already has an order.
func (t *paymentTx) InsertPayment(ctx context.Context, p payments.Payment) error {
	args, err := paymentArgs(p)
	if err != nil {
		return fmt.Errorf("sqlstore: insert payment %q: %w", p.ID, err)
	}
	return t.insert(ctx, fmt.Sprintf("insert payment %q", p.ID), `INSERT INTO payments (`+paymentCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`, args...)
}

// UpdatePayment writes the mutable fields of a payment; ob.ErrNotFound for
// an unknown id.
func (t *paymentTx) UpdatePayment(ctx context.Context, p payments.Payment) error {
	var e jsonEnc
	assessment := e.col(p.Assessment)
	if e.err != nil {
		return fmt.Errorf("sqlstore: update payment %q: %w", p.ID, e.err)
	}
	res, err := t.tx.ExecContext(ctx, `UPDATE payments SET status = $2, status_reason = $3,
		status_update_time = $4, assessment = $5, next_run_at = $6, runs_done = $7 WHERE id = $1`,
		p.ID, string(p.Status), p.StatusReason, micros(p.StatusUpdateDateTime), assessment,
		nullMicros(p.NextRunAt), p.RunsDone)
	if err != nil {
		return t.s.wrapErr(err, "update payment %q", p.ID)
	}
	if n, err := res.RowsAffected(); err != nil {
		return t.s.wrapErr(err, "update payment %q", p.ID)
	} else if n == 0 {
		return fmt.Errorf("sqlstore: update payment %q: %w", p.ID, ob.ErrNotFound)
	}
	return nil
}

// AddExecution records an execution; ob.ErrConflict when the payment
// already has execution N.
func (t *paymentTx) AddExecution(ctx context.Context, x payments.Execution) error {
	return t.insert(ctx, fmt.Sprintf("execution %d of payment %q", x.N, x.PaymentID),
		`INSERT INTO payment_executions (payment_id, n, entry_id, at, amount_minor, currency, status, reason)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		x.PaymentID, x.N, x.EntryID, micros(x.At), x.Amount.Minor, x.Amount.Currency, string(x.Status), x.Reason)
}

// PutScheduledPayment inserts or replaces the AIS view of a scheduled
// payment, in the columns Import writes and ScheduledPayments reads.
func (t *paymentTx) PutScheduledPayment(ctx context.Context, sp ob.ScheduledPayment) error {
	var e jsonEnc
	agent, account := e.col(toAgentJSON(sp.CreditorAgent)), e.col(toAccountIDJSON(sp.CreditorAccount))
	if e.err != nil {
		return fmt.Errorf("sqlstore: put scheduled payment %q: %w", sp.ID, e.err)
	}
	_, err := t.tx.ExecContext(ctx, `INSERT INTO scheduled_payments (account_id, id, scheduled_time,
		scheduled_type, reference, debtor_reference, amount_minor, currency, creditor_agent, creditor_account)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (account_id, id) DO UPDATE SET scheduled_time = excluded.scheduled_time,
			scheduled_type = excluded.scheduled_type, reference = excluded.reference,
			debtor_reference = excluded.debtor_reference, amount_minor = excluded.amount_minor,
			currency = excluded.currency, creditor_agent = excluded.creditor_agent,
			creditor_account = excluded.creditor_account`,
		sp.AccountID, sp.ID, micros(sp.ScheduledPaymentDateTime), sp.ScheduledType, sp.Reference,
		sp.DebtorReference, sp.InstructedAmount.Minor, sp.InstructedAmount.Currency, agent, account)
	if err != nil {
		return t.s.wrapErr(err, "put scheduled payment %q", sp.ID)
	}
	return nil
}

// DeleteScheduledPayment removes the AIS view of a scheduled payment. One
// that is not there is not an error: a re-run execution deletes it again.
func (t *paymentTx) DeleteScheduledPayment(ctx context.Context, accountID, id string) error {
	if _, err := t.tx.ExecContext(ctx, `DELETE FROM scheduled_payments WHERE account_id = $1 AND id = $2`,
		accountID, id); err != nil {
		return t.s.wrapErr(err, "delete scheduled payment %q", id)
	}
	return nil
}

// PutStandingOrder inserts or replaces the AIS view of a standing order,
// in the columns Import writes and StandingOrders reads.
func (t *paymentTx) PutStandingOrder(ctx context.Context, so ob.StandingOrder) error {
	var e jsonEnc
	agent, account := e.col(toAgentJSON(so.CreditorAgent)), e.col(toAccountIDJSON(so.CreditorAccount))
	if e.err != nil {
		return fmt.Errorf("sqlstore: put standing order %q: %w", so.ID, e.err)
	}
	firstM, firstC := nullMoney(so.FirstPaymentAmount)
	nextM, nextC := nullMoney(so.NextPaymentAmount)
	lastM, lastC := nullMoney(so.LastPaymentAmount)
	finalM, finalC := nullMoney(so.FinalPaymentAmount)
	_, err := t.tx.ExecContext(ctx, `INSERT INTO standing_orders (account_id, id, frequency, reference,
		first_payment_time, next_payment_time, last_payment_time, final_payment_time, number_of_payments, status,
		first_payment_minor, first_payment_currency, next_payment_minor, next_payment_currency,
		last_payment_minor, last_payment_currency, final_payment_minor, final_payment_currency,
		creditor_agent, creditor_account)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
		ON CONFLICT (account_id, id) DO UPDATE SET frequency = excluded.frequency,
			reference = excluded.reference, first_payment_time = excluded.first_payment_time,
			next_payment_time = excluded.next_payment_time, last_payment_time = excluded.last_payment_time,
			final_payment_time = excluded.final_payment_time, number_of_payments = excluded.number_of_payments,
			status = excluded.status, first_payment_minor = excluded.first_payment_minor,
			first_payment_currency = excluded.first_payment_currency,
			next_payment_minor = excluded.next_payment_minor, next_payment_currency = excluded.next_payment_currency,
			last_payment_minor = excluded.last_payment_minor, last_payment_currency = excluded.last_payment_currency,
			final_payment_minor = excluded.final_payment_minor,
			final_payment_currency = excluded.final_payment_currency,
			creditor_agent = excluded.creditor_agent, creditor_account = excluded.creditor_account`,
		so.AccountID, so.ID, so.Frequency, so.Reference, nullMicros(so.FirstPaymentDateTime),
		nullMicros(so.NextPaymentDateTime), nullMicros(so.LastPaymentDateTime), nullMicros(so.FinalPaymentDateTime),
		so.NumberOfPayments, so.Status, firstM, firstC, nextM, nextC, lastM, lastC, finalM, finalC, agent, account)
	if err != nil {
		return t.s.wrapErr(err, "put standing order %q", so.ID)
	}
	return nil
}

// EnqueueNotification writes an event's outbox row in the transaction of
// the change it reports.
func (t *paymentTx) EnqueueNotification(ctx context.Context, n events.Notification) error {
	return t.s.enqueueNotification(ctx, t.tx, n)
}
