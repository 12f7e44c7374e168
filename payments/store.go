package payments

import (
	"context"
	"time"

	"github.com/obank/obank/ledger"
	"github.com/obank/obank/ob"
)

// Store is what the payment service needs of the bank's storage. Both SQL
// backends implement it (internal/sqlstore), held to the same behaviour by
// obtest.RunPaymentStoreTests.
type Store interface {
	ob.BankReader
	ob.ConsentStore
	PaymentStore
	// LedgerAccount is ledger.Store's: the funds check reads it.
	LedgerAccount(ctx context.Context, id string) (ledger.Account, error)
}

// PaymentStore keeps payment orders, and runs the transactions that create
// and execute them.
type PaymentStore interface {
	// Idempotent claims key and runs create in the same write transaction:
	// the resource and the key are committed together or not at all. When
	// the key is live (stored less than its TTL ago) for the same TPP, it
	// does not run create: it returns the resource id stored with the key
	// (replayed true) when the request hash and kind are equal, and an error
	// with code UK.OBIE.Header.Invalid (path x-idempotency-key) otherwise.
	// Concurrent calls with one key run create once; the others return the
	// winner's id as a replay. create returns the id of what it created; its
	// error rolls everything back and is returned unchanged. On PostgreSQL
	// the transaction may be re-run from the start after a serialization
	// failure or deadlock, so create must have no effect outside tx.
	Idempotent(ctx context.Context, key IdempotencyKey, create func(ctx context.Context, tx Tx) (resourceID string, err error)) (resourceID string, replayed bool, err error)

	// RunDue executes due payment orders: for each of at most limit
	// payments with NextRunAt <= now, oldest first, it opens a write
	// transaction, locks the payment (skipping, on PostgreSQL, those another
	// instance holds: FOR UPDATE SKIP LOCKED), re-checks that it is still
	// due, and calls run with the locked payment; run's writes commit with
	// the transaction, its error rolls that payment's transaction back and
	// ends RunDue with the error. It returns the ids of the payments run
	// (on an error, those committed before it). Several instances may call
	// it at once: each due execution is run by exactly one of them. Like
	// Idempotent's create, run may be re-run on PostgreSQL after a
	// serialization failure or deadlock and must have no effect outside tx.
	RunDue(ctx context.Context, now time.Time, limit int, run func(ctx context.Context, tx Tx, p Payment) error) ([]string, error)

	// Payment returns a payment order; ob.ErrNotFound for an unknown id.
	Payment(ctx context.Context, id string) (Payment, error)
	// Executions returns a payment's executions ordered by N.
	Executions(ctx context.Context, paymentID string) ([]Execution, error)
	// TPPPaymentStats counts the payment orders a TPP submitted since a
	// time, and how many of them were refused (Rejected or
	// InitiationFailed): risk scoring's TPP behaviour.
	TPPPaymentStats(ctx context.Context, tppID string, since time.Time) (submitted, rejected int, err error)
	// PaymentAccounts returns, in one read, the debtor account
	// (ob.ErrNotFound when there is none) and the bank's account with the
	// creditor's identification (scheme UK.OBIE.SortCodeAccountNumber or
	// UK.OBIE.IBAN, legacy names too, identification compared without
	// case), nil when the bank holds none (the creditor is at another bank).
	PaymentAccounts(ctx context.Context, debtorID, scheme, identification string) (debtor ob.Account, creditor *ob.Account, err error)
	// RiskHistory returns, in one read, the past fraud scoring compares a
	// payment from an account with.
	RiskHistory(ctx context.Context, accountID string, since time.Time, limit int) (RiskHistory, error)
	// RecordFundsConfirmation stores the answer to a CBPII's funds check.
	RecordFundsConfirmation(ctx context.Context, fc FundsConfirmation) error
}

// RiskHistory is an account's past as fraud scoring reads it.
type RiskHistory struct {
	// Debits are the account's debits booked at or after the time asked
	// for, the newest limit of them, in no particular order.
	Debits []PastDebit
	// SavedPayees are the creditor accounts of its beneficiaries.
	SavedPayees []ob.AccountIdentification
}

// PastDebit is one of an account's past debits, as much of it as fraud
// scoring reads: a few hundred are read for every payment.
type PastDebit struct {
	At     time.Time
	Amount ob.Money // negative
	// CreditorScheme and CreditorIdentification name the account paid;
	// empty for a debit without one (a card payment, cash).
	CreditorScheme, CreditorIdentification string
}

// Tx is the unit of work of one write transaction (see Idempotent and
// RunDue). Its methods write through the transaction only.
type Tx interface {
	// CreateConsent stores a new consent; ob.ErrConflict when the id exists.
	CreateConsent(ctx context.Context, c ob.Consent) error
	// LockConsent loads a consent and locks it until the transaction ends
	// (FOR UPDATE on PostgreSQL); ob.ErrNotFound for an unknown id.
	LockConsent(ctx context.Context, id string) (ob.Consent, error)
	// SaveConsent writes consent c, changed from before (both as loaded by
	// LockConsent), with the access-grant side effects of
	// ob.ConsentStore.UpdateConsent: leaving Authorised revokes the grant
	// and its tokens, but for Consumed, which keeps them until they expire
	// (a retried order must find the order it made).
	SaveConsent(ctx context.Context, before, c ob.Consent, now time.Time) error
	// Post posts a ledger entry (see ledger.Store.Post) inside the
	// transaction. A refusal for funds is not an error: Outcome.Refused is
	// set and no posting is written (the bank's own accounts may have been
	// created, at zero). ob.ErrConflict when an entry with the id exists.
	Post(ctx context.Context, e ledger.Entry) (ledger.Outcome, error)
	// HasEntry reports whether the ledger holds an entry with the id.
	HasEntry(ctx context.Context, id string) (bool, error)
	// InsertPayment stores a new payment order; ob.ErrConflict when the id
	// exists or the consent already has an order, which a store may report
	// only when the transaction commits (the transaction is then lost).
	InsertPayment(ctx context.Context, p Payment) error
	// UpdatePayment writes the mutable fields of a payment (Status,
	// StatusReason, StatusUpdateDateTime, Assessment, NextRunAt, RunsDone);
	// ob.ErrNotFound for an unknown id.
	UpdatePayment(ctx context.Context, p Payment) error
	// AddExecution records an execution; ob.ErrConflict when the payment
	// already has execution N, possibly only at the commit, as with
	// InsertPayment.
	AddExecution(ctx context.Context, x Execution) error
	// PutScheduledPayment inserts or replaces (by AccountID and ID) the AIS
	// view of a scheduled payment, and DeleteScheduledPayment removes it
	// once executed (no error when it is already gone).
	PutScheduledPayment(ctx context.Context, sp ob.ScheduledPayment) error
	DeleteScheduledPayment(ctx context.Context, accountID, id string) error
	// PutStandingOrder inserts or replaces (by AccountID and ID) the AIS
	// view of a standing order.
	PutStandingOrder(ctx context.Context, so ob.StandingOrder) error
	// EnqueueNotification writes an event's outbox row (see
	// events.Publisher.ResourceUpdateNotification) with the change it
	// reports: the TPP hears of every committed status change, and of no
	// other.
	EnqueueNotification(ctx context.Context, n ob.EventNotification) error
}

// IdempotencyKey identifies one idempotent POST (x-idempotency-key).
type IdempotencyKey struct {
	TPPID string
	// Key is the header's value.
	Key string
	// RequestHash is the SHA-256 of the request body as received: a retry
	// must resend the same bytes (its x-jws-signature requires it anyway).
	RequestHash []byte
	// Kind names the resource kind ("domestic-payment-consent",
	// "domestic-payment", ...): the same key on another kind is refused.
	Kind string
	// Now is the request time; the key binds until Now + ob.IdempotencyTTL.
	Now time.Time
}

// FundsConfirmation is a CBPII's funds check and the bank's answer.
type FundsConfirmation struct {
	ID               string
	ConsentID        string
	TPPID            string
	CreationDateTime time.Time
	Reference        string
	Amount           ob.Money
	Available        bool
}
