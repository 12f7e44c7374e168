package obtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/obank/obank/internal/sqlstore"
	"github.com/obank/obank/ledger"
	"github.com/obank/obank/ob"
	"github.com/obank/obank/payments"
	"github.com/obank/obank/payments/risk"
)

// PaymentStore is what the payment-store suite needs: the payment service's
// store, the ledger it posts to, and the bank store it seeds and reads
// (Import, grants).
type PaymentStore interface {
	payments.Store
	ledger.Store
	ob.Store
	// The fill of risk records for debits written before they existed.
	BackfillRiskRecords(ctx context.Context, after int64, limit int) (filled int, next int64, err error)
	BackfillAllRiskRecords(ctx context.Context, batch int) (int, error)
}

// PaymentStoreOptions are what RunPaymentStoreTests needs beyond the
// stores.
type PaymentStoreOptions struct {
	// ForgetRisk sets the risk column of the account's transactions to
	// NULL behind the store's back, as it is for rows written before the
	// column existed (migration 0012).
	ForgetRisk func(t *testing.T, s PaymentStore, accountID string)
}

// RunPaymentStoreTests runs the payments.PaymentStore contract suite. open
// must return a fresh, empty store for each call.
func RunPaymentStoreTests(t *testing.T, open func(t *testing.T) PaymentStore, opts PaymentStoreOptions) {
	t.Run("RoundTrip", func(t *testing.T) { testPaymentRoundTrip(t, open(t)) })
	t.Run("Update", func(t *testing.T) { testPaymentUpdate(t, open(t)) })
	t.Run("Executions", func(t *testing.T) { testPaymentExecutions(t, open(t)) })
	t.Run("Idempotent", func(t *testing.T) { testPaymentIdempotent(t, open(t)) })
	t.Run("IdempotentConcurrent", func(t *testing.T) { testPaymentIdempotentConcurrent(t, open(t)) })
	t.Run("Post", func(t *testing.T) { testPaymentPost(t, open(t)) })
	t.Run("ConsumeConsent", func(t *testing.T) { testPaymentConsumeConsent(t, open(t)) })
	t.Run("RunDue", func(t *testing.T) { testRunDue(t, open(t)) })
	t.Run("RunDueConcurrent", func(t *testing.T) { testRunDueConcurrent(t, open(t)) })
	t.Run("AISViews", func(t *testing.T) { testPaymentAISViews(t, open(t)) })
	t.Run("PaymentAccounts", func(t *testing.T) { testPaymentAccounts(t, open(t)) })
	t.Run("RiskHistory", func(t *testing.T) { testRiskHistory(t, open(t), opts) })
	t.Run("TPPPaymentStats", func(t *testing.T) { testTPPPaymentStats(t, open(t)) })
	t.Run("FundsConfirmation", func(t *testing.T) { testFundsConfirmation(t, open(t)) })
}

// openPaymentBank imports the Fixture and LedgerBank and opens the ledger.
func openPaymentBank(t *testing.T, s PaymentStore) {
	t.Helper()
	MustImport(t, s, Fixture())
	MustImport(t, s, LedgerBank())
	if _, err := ledger.Open(context.Background(), s, ledgerTime(time.Second)); err != nil {
		t.Fatalf("ledger.Open: %v", err)
	}
}

// payKey returns an idempotency key of tpp for a request body.
func payKey(tpp, key, body string, now time.Time) payments.IdempotencyKey {
	return payments.IdempotencyKey{TPPID: tpp, Key: key, RequestHash: sqlstore.HashBody([]byte(body)),
		Kind: "domestic-payment", Now: now}
}

// txKeys numbers the keys inTx uses.
var txKeys atomic.Int64

// inTx runs fn in a write transaction of s (an Idempotent call with a key
// of its own) and returns fn's error.
func inTx(t *testing.T, s PaymentStore, fn func(ctx context.Context, tx payments.Tx) error) error {
	t.Helper()
	key := fmt.Sprintf("tx-%d", txKeys.Add(1))
	_, _, err := s.Idempotent(context.Background(), payKey("tpp-tx", key, key, FixtureTime()),
		func(ctx context.Context, tx payments.Tx) (string, error) { return "tx", fn(ctx, tx) })
	return err
}

// mustInTx is inTx that fails the test on an error.
func mustInTx(t *testing.T, s PaymentStore, fn func(ctx context.Context, tx payments.Tx) error) {
	t.Helper()
	if err := inTx(t, s, fn); err != nil {
		t.Fatalf("transaction: %v", err)
	}
}

// payConsent returns an AwaitingAuthorisation payment consent of tpp.
func payConsent(id, tpp string, kind ob.ConsentKind, at time.Time) ob.Consent {
	return ob.Consent{ID: id, Kind: kind, TPPID: tpp, Status: ob.ConsentAwaitingAuthorisation,
		CreationDateTime: at, StatusUpdateDateTime: at, Payload: []byte(`{"Initiation":{}}`)}
}

// newPayment returns a domestic payment with every field set, consuming
// consent "c-<id>".
func newPayment(id, tpp string, at time.Time) payments.Payment {
	return payments.Payment{
		ID: id, Kind: ob.KindDomesticPayment, ConsentID: "c-" + id, TPPID: tpp,
		CustomerID: ledgerCu, DebtorAccountID: LedgerA,
		Status: payments.StatusAcceptedSettlementCompleted, StatusReason: "reviewed",
		CreationDateTime: at, StatusUpdateDateTime: at.Add(time.Second),
		// Spacing kept on purpose: the stored initiation is the bytes given.
		Initiation: json.RawMessage(`{"InstructionIdentification": "ACME412",
			"InstructedAmount": {"Amount": "165.88", "Currency": "GBP"}}`),
		Amount: gbp(16588),
		Assessment: &risk.Assessment{Score: 0.4321, Level: risk.Medium, Decision: risk.Allow,
			Reasons: []risk.Reason{{Rule: risk.RuleNewPayee, Score: 1, Weight: 0.3, Detail: "first payment to this payee"}}},
		NextRunAt: ptr(at.Add(time.Hour)),
		RunsDone:  2,
	}
}

// mustInsertPayments creates the consent of each payment and inserts the
// payments in one transaction.
func mustInsertPayments(t *testing.T, s PaymentStore, ps ...payments.Payment) {
	t.Helper()
	ctx := context.Background()
	for _, p := range ps {
		if err := s.CreateConsent(ctx, payConsent(p.ConsentID, p.TPPID, p.Kind, p.CreationDateTime)); err != nil {
			t.Fatalf("CreateConsent(%s): %v", p.ConsentID, err)
		}
	}
	mustInTx(t, s, func(ctx context.Context, tx payments.Tx) error {
		for _, p := range ps {
			if err := tx.InsertPayment(ctx, p); err != nil {
				return err
			}
		}
		return nil
	})
}

func mustPayment(t *testing.T, s PaymentStore, id string) payments.Payment {
	t.Helper()
	p, err := s.Payment(context.Background(), id)
	if err != nil {
		t.Fatalf("Payment(%s): %v", id, err)
	}
	return p
}

func testPaymentRoundTrip(t *testing.T, s PaymentStore) {
	ctx := context.Background()
	openPaymentBank(t, s)
	base := FixtureTime()
	full := newPayment("pdp-full", "tpp-1", base)
	minimal := payments.Payment{ID: "psp-min", Kind: ob.KindDomesticScheduledPayment, ConsentID: "c-psp-min",
		TPPID: "tpp-1", CustomerID: Alice, DebtorAccountID: Acc1, Status: payments.StatusInitiationPending,
		CreationDateTime: base, StatusUpdateDateTime: base, Initiation: json.RawMessage(`{}`), Amount: gbp(1)}
	mustInsertPayments(t, s, full, minimal)
	for _, want := range []payments.Payment{full, minimal} {
		got := mustPayment(t, s, want.ID)
		diff(t, "Payment("+want.ID+")", want, got)
		checkUTC(t, "Payment", got)
	}
	_, err := s.Payment(ctx, "pdp-unknown")
	wantCode(t, "Payment(unknown)", err, ob.CodeResourceNotFound)

	// One order per id and one per consent; the failed insert rolls back
	// what its transaction wrote before it.
	for _, c := range []struct {
		name string
		p    payments.Payment
	}{
		{"duplicate id", func() payments.Payment { p := newPayment("pdp-full", "tpp-1", base); p.ConsentID = "c-other"; return p }()},
		{"consent already used", func() payments.Payment {
			p := newPayment("pdp-2", "tpp-1", base)
			p.ConsentID = full.ConsentID
			return p
		}()},
	} {
		err := inTx(t, s, func(ctx context.Context, tx payments.Tx) error {
			if err := tx.CreateConsent(ctx, payConsent("c-other", "tpp-1", ob.KindDomesticPayment, base)); err != nil {
				return err
			}
			return tx.InsertPayment(ctx, c.p)
		})
		wantCode(t, "InsertPayment("+c.name+")", err, ob.CodeConflict)
		_, err = s.Consent(ctx, "c-other")
		wantCode(t, c.name+": Consent written before the conflict", err, ob.CodeResourceNotFound)
	}
	diff(t, "Payment(pdp-full) after the conflicts", full, mustPayment(t, s, full.ID))
	if _, err := s.Payment(ctx, "pdp-2"); ob.ErrorCode(err) != ob.CodeResourceNotFound {
		t.Errorf("Payment(pdp-2) = %v, want not found", err)
	}
}

func testPaymentUpdate(t *testing.T, s PaymentStore) {
	openPaymentBank(t, s)
	base := FixtureTime()
	orig := newPayment("pso-1", "tpp-1", base)
	orig.Kind = ob.KindDomesticStandingOrder
	mustInsertPayments(t, s, orig)

	cases := []struct {
		name   string
		change func(p *payments.Payment)
	}{
		{"status and schedule", func(p *payments.Payment) {
			p.Status, p.StatusReason = payments.StatusInitiationCompleted, ""
			p.StatusUpdateDateTime = base.Add(time.Hour)
			p.NextRunAt = ptr(base.Add(30 * 24 * time.Hour))
			p.RunsDone = 3
			p.Assessment = &risk.Assessment{Score: 0.9, Level: risk.High, Decision: risk.Reject, Reasons: []risk.Reason{}}
		}},
		{"cleared", func(p *payments.Payment) {
			p.Status, p.StatusReason = payments.StatusCancelled, "cancelled by the customer"
			p.StatusUpdateDateTime = base.Add(2 * time.Hour)
			p.NextRunAt, p.Assessment = nil, nil
		}},
	}
	want := orig
	for _, c := range cases {
		c.change(&want)
		upd := want
		// Only the mutable fields are written.
		upd.TPPID, upd.Amount, upd.CustomerID, upd.Initiation = "tpp-other", gbp(1), "someone", json.RawMessage(`[]`)
		upd.CreationDateTime = base.Add(-time.Hour)
		mustInTx(t, s, func(ctx context.Context, tx payments.Tx) error { return tx.UpdatePayment(ctx, upd) })
		diff(t, "Payment after UpdatePayment("+c.name+")", want, mustPayment(t, s, orig.ID))
	}
	err := inTx(t, s, func(ctx context.Context, tx payments.Tx) error {
		p := orig
		p.ID = "pso-unknown"
		return tx.UpdatePayment(ctx, p)
	})
	wantCode(t, "UpdatePayment(unknown)", err, ob.CodeResourceNotFound)
}

func testPaymentExecutions(t *testing.T, s PaymentStore) {
	ctx := context.Background()
	openPaymentBank(t, s)
	base := FixtureTime()
	mustInsertPayments(t, s, newPayment("pso-x", "tpp-1", base))
	xs := []payments.Execution{
		{PaymentID: "pso-x", N: 0, EntryID: payments.ExecutionEntryID("pso-x", 0), At: base.Add(time.Hour),
			Amount: gbp(16588), Status: payments.StatusAcceptedSettlementCompleted},
		{PaymentID: "pso-x", N: 1, EntryID: payments.ExecutionEntryID("pso-x", 1), At: base.Add(25 * time.Hour),
			Amount: gbp(100), Status: payments.StatusRejected, Reason: "insufficient funds"},
	}
	// Added out of order: Executions orders by N.
	mustInTx(t, s, func(ctx context.Context, tx payments.Tx) error {
		for _, x := range []payments.Execution{xs[1], xs[0]} {
			if err := tx.AddExecution(ctx, x); err != nil {
				return err
			}
		}
		return nil
	})
	got, err := s.Executions(ctx, "pso-x")
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "Executions", xs, got)
	checkUTC(t, "Executions", got)

	dup := xs[0]
	dup.EntryID, dup.Amount = "other", gbp(1)
	err = inTx(t, s, func(ctx context.Context, tx payments.Tx) error { return tx.AddExecution(ctx, dup) })
	wantCode(t, "AddExecution(duplicate N)", err, ob.CodeConflict)
	got, err = s.Executions(ctx, "pso-x")
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "Executions after the duplicate", xs, got)
	if got, err := s.Executions(ctx, "pso-unknown"); err != nil || len(got) != 0 {
		t.Errorf("Executions(unknown) = %v, %v; want none", got, err)
	}
}

// consentCreator is an Idempotent create function that creates a consent
// through the transaction and counts its runs.
type consentCreator struct {
	runs  atomic.Int64
	delay time.Duration
	fail  error
}

func (c *consentCreator) create(id string) func(ctx context.Context, tx payments.Tx) (string, error) {
	return func(ctx context.Context, tx payments.Tx) (string, error) {
		c.runs.Add(1)
		if err := tx.CreateConsent(ctx, payConsent(id, "tpp-a", ob.KindDomesticPayment, FixtureTime())); err != nil {
			return "", err
		}
		if c.delay > 0 {
			time.Sleep(c.delay)
		}
		if c.fail != nil {
			return "", c.fail
		}
		return id, nil
	}
}

func testPaymentIdempotent(t *testing.T, s PaymentStore) {
	ctx := context.Background()
	now := FixtureTime()
	var c consentCreator

	id, replayed, err := s.Idempotent(ctx, payKey("tpp-a", "key-1", `{"a":1}`, now), c.create("pdc-1"))
	if err != nil || replayed || id != "pdc-1" {
		t.Fatalf("first Idempotent = %q, %v, %v; want pdc-1, false, nil", id, replayed, err)
	}
	if _, err := s.Consent(ctx, "pdc-1"); err != nil {
		t.Errorf("Consent(pdc-1) after create: %v", err)
	}

	cases := []struct {
		name         string
		key          payments.IdempotencyKey
		create       string
		wantID       string
		wantReplayed bool
		wantCode     string
		wantRuns     int64
	}{
		{"replay", payKey("tpp-a", "key-1", `{"a":1}`, now.Add(time.Hour)), "pdc-x", "pdc-1", true, "", 1},
		{"other body", payKey("tpp-a", "key-1", `{"a":2}`, now.Add(time.Hour)), "pdc-x", "", false, ob.CodeHeaderInvalid, 1},
		{"other kind", func() payments.IdempotencyKey {
			k := payKey("tpp-a", "key-1", `{"a":1}`, now.Add(time.Hour))
			k.Kind = "domestic-scheduled-payment"
			return k
		}(), "pdc-x", "", false, ob.CodeHeaderInvalid, 1},
		{"other TPP", payKey("tpp-b", "key-1", `{"a":1}`, now.Add(time.Hour)), "pdc-2", "pdc-2", false, "", 2},
		{"expired key, other body", payKey("tpp-a", "key-1", `{"a":3}`, now.Add(ob.IdempotencyTTL+time.Second)), "pdc-3", "pdc-3", false, "", 3},
		{"empty key", payKey("tpp-a", "", `{"a":1}`, now), "pdc-x", "", false, ob.CodeHeaderMissing, 3},
	}
	for _, tc := range cases {
		id, replayed, err := s.Idempotent(ctx, tc.key, c.create(tc.create))
		wantCode(t, tc.name, err, tc.wantCode)
		if id != tc.wantID || replayed != tc.wantReplayed {
			t.Errorf("%s: Idempotent = %q, %v; want %q, %v", tc.name, id, replayed, tc.wantID, tc.wantReplayed)
		}
		if n := c.runs.Load(); n != tc.wantRuns {
			t.Errorf("%s: create ran %d times in all, want %d", tc.name, n, tc.wantRuns)
		}
		if tc.wantCode == ob.CodeHeaderInvalid {
			var e *ob.Error
			if !errors.As(err, &e) || e.Path != ob.HeaderIdempotencyKey {
				t.Errorf("%s: error %#v, want path %s", tc.name, err, ob.HeaderIdempotencyKey)
			}
		}
	}
	if _, err := s.Consent(ctx, "pdc-x"); ob.ErrorCode(err) != ob.CodeResourceNotFound {
		t.Errorf("Consent(pdc-x) = %v: create ran for a replay or a refusal", err)
	}

	// A failing create rolls back its writes and the key: the same key
	// then creates.
	boom := errors.New("boom")
	fail := consentCreator{fail: boom}
	if _, _, err := s.Idempotent(ctx, payKey("tpp-a", "key-fail", `{}`, now), fail.create("pdc-fail")); !errors.Is(err, boom) {
		t.Fatalf("Idempotent with a failing create = %v, want boom", err)
	}
	if _, err := s.Consent(ctx, "pdc-fail"); ob.ErrorCode(err) != ob.CodeResourceNotFound {
		t.Errorf("Consent(pdc-fail) after the failed create = %v, want not found", err)
	}
	var ok consentCreator
	id, replayed, err = s.Idempotent(ctx, payKey("tpp-a", "key-fail", `{}`, now), ok.create("pdc-fail"))
	if err != nil || replayed || id != "pdc-fail" || ok.runs.Load() != 1 {
		t.Errorf("Idempotent after a failed create = %q, %v, %v (runs %d); want a fresh creation",
			id, replayed, err, ok.runs.Load())
	}
	// A create error that is a store error (a conflict) is returned as such.
	_, _, err = s.Idempotent(ctx, payKey("tpp-a", "key-dup", `{}`, now), ok.create("pdc-1"))
	wantCode(t, "Idempotent creating an existing consent", err, ob.CodeConflict)
}

func testPaymentIdempotentConcurrent(t *testing.T, s PaymentStore) {
	ctx := context.Background()
	c := consentCreator{delay: 20 * time.Millisecond}
	const n = 20
	type result struct {
		id       string
		replayed bool
		err      error
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			id, replayed, err := s.Idempotent(ctx, payKey("tpp-a", "key-race", `{"race":1}`, FixtureTime()), c.create("pdc-race"))
			results[i] = result{id, replayed, err}
		})
	}
	close(start)
	wg.Wait()
	fresh := 0
	for i, r := range results {
		if r.err != nil || r.id != "pdc-race" {
			t.Errorf("call %d: %q, %v; want pdc-race", i, r.id, r.err)
		}
		if !r.replayed {
			fresh++
		}
	}
	if fresh != 1 || c.runs.Load() != 1 {
		t.Errorf("%d calls not replayed, create ran %d times; want 1 and 1", fresh, c.runs.Load())
	}
}

func testPaymentPost(t *testing.T, s PaymentStore) {
	ctx := context.Background()
	openPaymentBank(t, s)
	at := ledgerTime(time.Hour)
	before := mustVerify(t, s)

	// A payment and its posting commit together.
	p := newPayment("pdp-1", "tpp-1", at)
	p.NextRunAt = nil
	if err := s.CreateConsent(ctx, payConsent(p.ConsentID, "tpp-1", p.Kind, at)); err != nil {
		t.Fatal(err)
	}
	id, _, err := s.Idempotent(ctx, payKey("tpp-1", "pay-1", "pay-1", at), func(ctx context.Context, tx payments.Tx) (string, error) {
		out, err := tx.Post(ctx, ledger.Transfer(payments.ExecutionEntryID(p.ID, 0), ledger.EntryInternal, "Rent",
			LedgerA, LedgerB, gbpm(3000), at))
		if err != nil || !out.Posted || out.Refused != nil {
			return "", fmt.Errorf("Post = %+v, %v; want posted", out, err)
		}
		if out.Balances[LedgerA] != gbpm(7000) || out.Balances[LedgerB] != gbpm(5000) {
			return "", fmt.Errorf("outcome balances %v", out.Balances)
		}
		return p.ID, tx.InsertPayment(ctx, p)
	})
	if err != nil || id != p.ID {
		t.Fatalf("Idempotent posting = %q, %v", id, err)
	}
	wantBalance(t, s, LedgerA, 7000, 12000)
	wantBalance(t, s, LedgerB, 5000, 5000)
	mustPayment(t, s, p.ID)

	// A refusal writes nothing of the ledger; the rest of the transaction
	// (the rejected order) commits.
	rej := newPayment("pdp-2", "tpp-1", at)
	rej.Status, rej.StatusReason, rej.NextRunAt = payments.StatusRejected, "insufficient funds", nil
	if err := s.CreateConsent(ctx, payConsent(rej.ConsentID, "tpp-1", rej.Kind, at)); err != nil {
		t.Fatal(err)
	}
	mustInTx(t, s, func(ctx context.Context, tx payments.Tx) error {
		out, err := tx.Post(ctx, ledger.Transfer(payments.ExecutionEntryID(rej.ID, 0), ledger.EntryInternal, "Too much",
			LedgerB, LedgerA, gbpm(5001), at))
		if err != nil || out.Posted || !ledger.IsInsufficientFunds(out.Refused) {
			return fmt.Errorf("Post past the limit = %+v, %v; want Refused and no error", out, err)
		}
		return tx.InsertPayment(ctx, rej)
	})
	wantBalance(t, s, LedgerA, 7000, 12000)
	wantBalance(t, s, LedgerB, 5000, 5000)
	if got := mustPayment(t, s, rej.ID); got.Status != payments.StatusRejected {
		t.Errorf("rejected payment status %s", got.Status)
	}
	rep := mustVerify(t, s)
	if rep.Entries != before.Entries+1 {
		t.Errorf("%d ledger entries, want %d (the opening ones and pdp-1's)", rep.Entries, before.Entries+1)
	}

	// Errors: a duplicate entry id, an unknown account. The transaction's
	// other writes roll back with it.
	for _, c := range []struct {
		name string
		e    ledger.Entry
		want func(error) bool
	}{
		{"duplicate entry", ledger.Transfer(payments.ExecutionEntryID(p.ID, 0), ledger.EntryInternal, "", LedgerA, LedgerB, gbpm(1), at),
			func(err error) bool { return ob.ErrorCode(err) == ob.CodeConflict }},
		{"unknown account", ledger.Transfer("pdp-3:0", ledger.EntryInternal, "", LedgerA, "nope", gbpm(1), at),
			func(err error) bool { return errors.Is(err, ledger.ErrUnknownAccount) }},
		{"invalid entry", ledger.Transfer("pdp-4:0", ledger.EntryInternal, "", LedgerA, LedgerB, gbpm(0), at),
			func(err error) bool { return errors.Is(err, ledger.ErrInvalidEntry) }},
	} {
		err := inTx(t, s, func(ctx context.Context, tx payments.Tx) error {
			if err := tx.CreateConsent(ctx, payConsent("c-rolled-back", "tpp-1", ob.KindDomesticPayment, at)); err != nil {
				return err
			}
			_, err := tx.Post(ctx, c.e)
			return err
		})
		if !c.want(err) {
			t.Errorf("%s: Post = %v", c.name, err)
		}
		if _, err := s.Consent(ctx, "c-rolled-back"); ob.ErrorCode(err) != ob.CodeResourceNotFound {
			t.Errorf("%s: consent written in the failed transaction: %v", c.name, err)
		}
	}
	wantBalance(t, s, LedgerA, 7000, 12000)
	mustVerify(t, s)
}

func testPaymentConsumeConsent(t *testing.T, s PaymentStore) {
	ctx := context.Background()
	MustImport(t, s, Fixture())
	at := FixtureTime()
	if err := s.CreateConsent(ctx, payConsent("pdc-c", "tpp-1", ob.KindDomesticPayment, at)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateConsent(ctx, "pdc-c", at, func(c *ob.Consent) error {
		return c.Authorise(Alice, []string{Acc1}, at)
	}); err != nil {
		t.Fatalf("Authorise: %v", err)
	}
	if g, err := s.AccessGrant(ctx, "pdc-c"); err != nil || g.RevokedAt != nil {
		t.Fatalf("AccessGrant after Authorise = %+v, %v; want live", g, err)
	}

	consume := func(ctx context.Context, tx payments.Tx) error {
		c, err := tx.LockConsent(ctx, "pdc-c")
		if err != nil {
			return err
		}
		before := c
		if err := c.Consume(at.Add(time.Minute)); err != nil {
			return err
		}
		if err := tx.SaveConsent(ctx, before, c, at.Add(time.Minute)); err != nil {
			return err
		}
		p := newPayment("pdp-c", "tpp-1", at)
		p.ConsentID = "pdc-c"
		return tx.InsertPayment(ctx, p)
	}
	mustInTx(t, s, consume)
	c, err := s.Consent(ctx, "pdc-c")
	if err != nil || c.Status != ob.ConsentConsumed || !c.StatusUpdateDateTime.Equal(at.Add(time.Minute)) {
		t.Errorf("Consent after consuming = %+v, %v; want Consumed at +1m", c, err)
	}
	// Consuming keeps the grant: the TPP's token must still reach the
	// order it made (a retry with its idempotency key answers it), and the
	// consent's status refuses a second order.
	g, err := s.AccessGrant(ctx, "pdc-c")
	if err != nil || g.RevokedAt != nil {
		t.Errorf("AccessGrant after consuming = %+v, %v; want live", g, err)
	}
	// Consumed is terminal: a second consumption fails and changes nothing.
	err = inTx(t, s, consume)
	wantCode(t, "consuming again", err, ob.CodeResourceInvalidConsentStatus)
	err = inTx(t, s, func(ctx context.Context, tx payments.Tx) error {
		_, err := tx.LockConsent(ctx, "pdc-unknown")
		return err
	})
	wantCode(t, "LockConsent(unknown)", err, ob.CodeResourceNotFound)
}

// dueRunner is a RunDue callback that executes a payment once: it records
// execution RunsDone and advances NextRunAt by step (nil when step is 0),
// counting its runs per payment.
type dueRunner struct {
	mu    sync.Mutex
	runs  map[string]int
	step  time.Duration
	fail  error
	delay time.Duration
}

func (r *dueRunner) run(ctx context.Context, tx payments.Tx, p payments.Payment) error {
	r.mu.Lock()
	if r.runs == nil {
		r.runs = map[string]int{}
	}
	r.runs[p.ID]++
	r.mu.Unlock()
	if p.NextRunAt == nil {
		return fmt.Errorf("payment %s run with no NextRunAt", p.ID)
	}
	if err := tx.AddExecution(ctx, payments.Execution{PaymentID: p.ID, N: p.RunsDone,
		EntryID: payments.ExecutionEntryID(p.ID, p.RunsDone), At: *p.NextRunAt, Amount: p.Amount,
		Status: payments.StatusAcceptedSettlementCompleted}); err != nil {
		return err
	}
	if r.step > 0 {
		p.NextRunAt = ptr(p.NextRunAt.Add(r.step))
	} else {
		p.NextRunAt = nil
	}
	p.RunsDone++
	if err := tx.UpdatePayment(ctx, p); err != nil {
		return err
	}
	if r.delay > 0 {
		time.Sleep(r.delay)
	}
	return r.fail
}

func (r *dueRunner) count(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.runs[id]
}

// duePayment is a standing order of tpp-1 next due at next.
func duePayment(id string, next *time.Time) payments.Payment {
	p := newPayment(id, "tpp-1", FixtureTime().Add(-48*time.Hour))
	p.Kind, p.Status, p.NextRunAt, p.RunsDone = ob.KindDomesticStandingOrder, payments.StatusInitiationCompleted, next, 0
	return p
}

func testRunDue(t *testing.T, s PaymentStore) {
	ctx := context.Background()
	openPaymentBank(t, s)
	now := FixtureTime()
	mustInsertPayments(t, s,
		duePayment("due-b", ptr(now.Add(-time.Hour))),
		duePayment("due-a", ptr(now.Add(-2*time.Hour))),
		duePayment("due-c", ptr(now)), // due exactly now
		duePayment("later", ptr(now.Add(time.Microsecond))),
		duePayment("never", nil),
	)
	var r dueRunner
	for _, c := range []struct {
		limit int
		want  []string
	}{
		{0, nil},
		{2, []string{"due-a", "due-b"}}, // oldest first
		{10, []string{"due-c"}},
		{10, nil},
	} {
		got, err := s.RunDue(ctx, now, c.limit, r.run)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("RunDue(limit %d) = %v, %v; want %v", c.limit, got, err, c.want)
		}
	}
	for _, id := range []string{"due-a", "due-b", "due-c", "later", "never"} {
		want := 0
		if id[:3] == "due" {
			want = 1
		}
		p := mustPayment(t, s, id)
		xs, err := s.Executions(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if r.count(id) != want || p.RunsDone != want || len(xs) != want {
			t.Errorf("%s: run %d times, RunsDone %d, %d executions; want %d", id, r.count(id), p.RunsDone, len(xs), want)
		}
		if want == 1 && p.NextRunAt != nil {
			t.Errorf("%s: NextRunAt %v after its run, want nil", id, p.NextRunAt)
		}
	}

	// A payment still due after its run (catching up on missed dates) runs
	// once per call, not over and over.
	mustInsertPayments(t, s, duePayment("catch-up", ptr(now.Add(-3*time.Hour))))
	catchUp := dueRunner{step: time.Hour}
	// Due at -3h, -2h, -1h and now: four calls run it, the fifth finds it
	// not due (now+1h).
	for i, want := range [][]string{{"catch-up"}, {"catch-up"}, {"catch-up"}, {"catch-up"}, nil} {
		got, err := s.RunDue(ctx, now, 10, catchUp.run)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("catch-up call %d: RunDue = %v, %v; want %v", i, got, err, want)
		}
	}
	if p := mustPayment(t, s, "catch-up"); p.RunsDone != 4 || p.NextRunAt == nil || !p.NextRunAt.Equal(now.Add(time.Hour)) {
		t.Errorf("catch-up: RunsDone %d, NextRunAt %v; want 4, now+1h", p.RunsDone, p.NextRunAt)
	}

	// run's error rolls back its payment's writes and ends RunDue.
	mustInsertPayments(t, s, duePayment("fails", ptr(now.Add(-time.Minute))))
	boom := errors.New("boom")
	failing := dueRunner{fail: boom}
	got, err := s.RunDue(ctx, now, 10, failing.run)
	if !errors.Is(err, boom) || len(got) != 0 {
		t.Errorf("RunDue with a failing run = %v, %v; want none, boom", got, err)
	}
	p := mustPayment(t, s, "fails")
	xs, _ := s.Executions(ctx, "fails")
	if p.RunsDone != 0 || p.NextRunAt == nil || len(xs) != 0 {
		t.Errorf("after the failed run: RunsDone %d, NextRunAt %v, %d executions; want unchanged", p.RunsDone, p.NextRunAt, len(xs))
	}
	if got, err := s.RunDue(ctx, now, 10, r.run); err != nil || !slices.Equal(got, []string{"fails"}) {
		t.Errorf("RunDue after the failure = %v, %v; want [fails]", got, err)
	}
}

func testRunDueConcurrent(t *testing.T, s PaymentStore) {
	ctx := context.Background()
	openPaymentBank(t, s)
	now := FixtureTime()
	const n, workers = 30, 4
	var ps []payments.Payment
	for i := range n {
		ps = append(ps, duePayment(fmt.Sprintf("due-%02d", i), ptr(now.Add(-time.Duration(i)*time.Minute))))
	}
	mustInsertPayments(t, s, ps...)
	r := dueRunner{delay: time.Millisecond}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		ran   = map[string]int{}
		start = make(chan struct{})
	)
	for range workers {
		wg.Go(func() {
			<-start
			ids, err := s.RunDue(ctx, now, 100, r.run)
			if err != nil {
				t.Errorf("RunDue: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, id := range ids {
				ran[id]++
			}
		})
	}
	close(start)
	wg.Wait()
	for _, p := range ps {
		if ran[p.ID] != 1 || r.count(p.ID) != 1 {
			t.Errorf("%s: returned by %d RunDue calls, run %d times; want 1 and 1", p.ID, ran[p.ID], r.count(p.ID))
		}
		if got := mustPayment(t, s, p.ID); got.RunsDone != 1 || got.NextRunAt != nil {
			t.Errorf("%s: RunsDone %d, NextRunAt %v; want 1, nil", p.ID, got.RunsDone, got.NextRunAt)
		}
	}
	if len(ran) != n {
		t.Errorf("%d payments run, want %d", len(ran), n)
	}
}

func testPaymentAISViews(t *testing.T, s PaymentStore) {
	ctx := context.Background()
	openPaymentBank(t, s)
	base := FixtureTime()
	creditor := &ob.AccountIdentification{SchemeName: ob.SchemeSortCodeAccountNumber, Identification: "40400411270111",
		Name: "Mr Landlord", SecondaryIdentification: "ROLL-0042"}
	agent := &ob.Agent{SchemeName: ob.SchemeBICFI, Identification: "OBNKGB2L", Name: "obank plc"}
	fullSO := ob.StandingOrder{ID: "pso-1", AccountID: LedgerB, Frequency: "IntrvlMnthDay:01:15", Reference: "Rent",
		FirstPaymentDateTime: ptr(base), NextPaymentDateTime: ptr(base.AddDate(0, 1, 0)),
		LastPaymentDateTime: ptr(base), FinalPaymentDateTime: ptr(base.AddDate(1, 0, 0)), NumberOfPayments: "13",
		Status: "Active", FirstPaymentAmount: ptr(gbp(50000)), NextPaymentAmount: ptr(gbp(50000)),
		LastPaymentAmount: ptr(gbp(50000)), FinalPaymentAmount: ptr(gbp(40000)),
		CreditorAgent: agent, CreditorAccount: creditor}
	sparseSO := ob.StandingOrder{ID: "pso-1", AccountID: LedgerB, Frequency: "EvryDay", Reference: "Milk",
		Status: "Inactive"}
	fullSP := ob.ScheduledPayment{ID: "psp-1", AccountID: LedgerB, ScheduledPaymentDateTime: base.Add(72 * time.Hour),
		ScheduledType: "Execution", Reference: "Invoice 7", DebtorReference: "INV-7", InstructedAmount: gbp(12345),
		CreditorAgent: agent, CreditorAccount: creditor}
	sparseSP := ob.ScheduledPayment{ID: "psp-1", AccountID: LedgerB, ScheduledPaymentDateTime: base.Add(96 * time.Hour),
		ScheduledType: "Arrival", InstructedAmount: gbp(1)}

	for _, step := range []struct {
		name string
		so   ob.StandingOrder
		sp   ob.ScheduledPayment
	}{
		{"insert", fullSO, fullSP},
		{"replace", sparseSO, sparseSP},
		{"replace again", fullSO, fullSP},
	} {
		mustInTx(t, s, func(ctx context.Context, tx payments.Tx) error {
			if err := tx.PutStandingOrder(ctx, step.so); err != nil {
				return err
			}
			return tx.PutScheduledPayment(ctx, step.sp)
		})
		sos, err := s.StandingOrders(ctx, []string{LedgerB})
		if err != nil {
			t.Fatal(err)
		}
		diff(t, step.name+": StandingOrders", []ob.StandingOrder{step.so}, sos)
		sps, err := s.ScheduledPayments(ctx, []string{LedgerB})
		if err != nil {
			t.Fatal(err)
		}
		diff(t, step.name+": ScheduledPayments", []ob.ScheduledPayment{step.sp}, sps)
	}
	// Deleting removes the scheduled payment; deleting again is no error.
	for i := range 2 {
		mustInTx(t, s, func(ctx context.Context, tx payments.Tx) error {
			return tx.DeleteScheduledPayment(ctx, LedgerB, "psp-1")
		})
		if sps, err := s.ScheduledPayments(ctx, []string{LedgerB}); err != nil || len(sps) != 0 {
			t.Errorf("ScheduledPayments after delete %d = %v, %v; want none", i, sps, err)
		}
	}
	// Other accounts' rows are untouched.
	sos, err := s.StandingOrders(ctx, []string{Acc1})
	if err != nil || len(sos) != 1 {
		t.Errorf("StandingOrders(Acc1) = %v, %v; want the fixture's one", sos, err)
	}
}

func testPaymentAccounts(t *testing.T, s PaymentStore) {
	ctx := context.Background()
	openPaymentBank(t, s)
	// creditor finds the creditor account of a payment from Acc1.
	creditor := func(scheme, id string) (*ob.Account, error) {
		debtor, c, err := s.PaymentAccounts(ctx, Acc1, scheme, id)
		if err == nil && debtor.ID != Acc1 {
			t.Errorf("PaymentAccounts(%q, %q): debtor %q, want %s", scheme, id, debtor.ID, Acc1)
		}
		return c, err
	}
	cases := []struct {
		scheme, id string
		want       string // account id; "" for none at this bank
	}{
		{ob.SchemeSortCodeAccountNumber, "60000112345678", Acc1},
		{ob.SchemeIBAN, "GB58OBNK60000112345678", Acc1},
		{ob.SchemeIBAN, "gb58obnk60000112345678", Acc1},
		{"IBAN", "Gb58Obnk60000112345678", Acc1},
		{"SortCodeAccountNumber", "60000187654321", Acc2},
		{ob.SchemeSortCodeAccountNumber, "60000187654321", Acc2},
		// The LedgerBank's accounts share one identification: the first keeps it.
		{ob.SchemeSortCodeAccountNumber, "60000100000001", LedgerA},
		{ob.SchemeSortCodeAccountNumber, "60000199999999", ""},
		{ob.SchemeIBAN, "60000112345678", ""},
		{ob.SchemeSortCodeAccountNumber, "GB58OBNK60000112345678", ""},
		{ob.SchemeSortCodeAccountNumber, "", ""},
	}
	for _, c := range cases {
		a, err := creditor(c.scheme, c.id)
		switch {
		case err != nil:
			t.Errorf("PaymentAccounts(%q, %q): %v", c.scheme, c.id, err)
		case c.want == "" && a != nil:
			t.Errorf("PaymentAccounts(%q, %q): creditor %q, want none", c.scheme, c.id, a.ID)
		case c.want != "" && (a == nil || a.ID != c.want):
			t.Errorf("PaymentAccounts(%q, %q): creditor %v, want %q", c.scheme, c.id, a, c.want)
		}
	}
	// The whole accounts are returned.
	want := Fixture().Accounts[0]
	debtor, got, err := s.PaymentAccounts(ctx, Acc2, ob.SchemeIBAN, "GB58OBNK60000112345678")
	if err != nil || got == nil {
		t.Fatalf("PaymentAccounts(Acc2 to Acc1) = %v, %v", got, err)
	}
	diff(t, "PaymentAccounts(Acc2 to Acc1) creditor", want, *got)
	diff(t, "PaymentAccounts(Acc2 to Acc1) debtor", Fixture().Accounts[1], debtor)
	// An unknown debtor is not found, whoever the creditor is.
	_, _, err = s.PaymentAccounts(ctx, "acc-nope", ob.SchemeIBAN, "GB58OBNK60000112345678")
	wantCode(t, "PaymentAccounts(unknown debtor)", err, ob.CodeResourceNotFound)

	// Import indexes accounts imported later, legacy scheme names included.
	late := LedgerBank().Accounts[0]
	late.ID = "acc-late"
	late.Identifications = []ob.AccountIdentification{{SchemeName: "IBAN", Identification: "gb33obnk60000155555555"}}
	MustImport(t, s, &ob.BankData{Accounts: []ob.Account{late}})
	if a, err := creditor(ob.SchemeIBAN, "GB33OBNK60000155555555"); err != nil || a == nil || a.ID != late.ID {
		t.Errorf("PaymentAccounts to an account imported later = %v, %v; want %s", a, err, late.ID)
	}
}

func testTPPPaymentStats(t *testing.T, s PaymentStore) {
	ctx := context.Background()
	openPaymentBank(t, s)
	t0 := FixtureTime()
	pay := func(id, tpp string, at time.Time, status payments.Status) payments.Payment {
		p := newPayment(id, tpp, at)
		p.Status = status
		return p
	}
	mustInsertPayments(t, s,
		pay("p1", "tpp-s", t0.Add(-2*time.Hour), payments.StatusRejected),
		pay("p2", "tpp-s", t0.Add(-30*time.Minute), payments.StatusAcceptedSettlementCompleted),
		pay("p3", "tpp-s", t0, payments.StatusRejected),
		pay("p4", "tpp-s", t0.Add(time.Minute), payments.StatusPending),
		pay("p5", "tpp-other", t0, payments.StatusRejected),
		// Scheduled payments and standing orders are rejected as
		// InitiationFailed; Cancelled is not a rejection.
		pay("p6", "tpp-init", t0, payments.StatusInitiationFailed),
		pay("p7", "tpp-init", t0, payments.StatusInitiationCompleted),
		pay("p8", "tpp-init", t0, payments.StatusCancelled),
	)
	for _, c := range []struct {
		tpp                 string
		since               time.Time
		submitted, rejected int
	}{
		{"tpp-s", t0.Add(-3 * time.Hour), 4, 2},
		{"tpp-s", t0.Add(-time.Hour), 3, 1},
		{"tpp-s", t0, 2, 1}, // since is inclusive
		{"tpp-s", t0.Add(time.Hour), 0, 0},
		{"tpp-other", t0.Add(-time.Hour), 1, 1},
		{"tpp-init", t0.Add(-time.Hour), 3, 1},
		{"tpp-unknown", t0.Add(-time.Hour), 0, 0},
	} {
		sub, rej, err := s.TPPPaymentStats(ctx, c.tpp, c.since)
		if err != nil || sub != c.submitted || rej != c.rejected {
			t.Errorf("TPPPaymentStats(%q, %v) = %d, %d, %v; want %d, %d", c.tpp, c.since, sub, rej, err, c.submitted, c.rejected)
		}
	}
}

func testFundsConfirmation(t *testing.T, s PaymentStore) {
	ctx := context.Background()
	at := FixtureTime()
	if err := s.CreateConsent(ctx, payConsent("fc-consent", "tpp-c", ob.KindFundsConfirmation, at)); err != nil {
		t.Fatal(err)
	}
	fc := payments.FundsConfirmation{ID: "fc-1", ConsentID: "fc-consent", TPPID: "tpp-c", CreationDateTime: at,
		Reference: "Purchase01", Amount: gbp(2000), Available: true}
	if err := s.RecordFundsConfirmation(ctx, fc); err != nil {
		t.Fatalf("RecordFundsConfirmation: %v", err)
	}
	no := fc
	no.ID, no.Available = "fc-2", false
	if err := s.RecordFundsConfirmation(ctx, no); err != nil {
		t.Fatalf("RecordFundsConfirmation(unavailable): %v", err)
	}
	wantCode(t, "RecordFundsConfirmation(duplicate)", s.RecordFundsConfirmation(ctx, fc), ob.CodeConflict)
}

// testRiskHistory: the account's debits since a time, the newest limit of
// them, and its beneficiaries' creditor accounts.
func testRiskHistory(t *testing.T, s PaymentStore, opts PaymentStoreOptions) {
	ctx := context.Background()
	data := Fixture()
	// Debits of Acc1 an hour apart, and a credit, after the fixture's own.
	base := FixtureTime().Add(24 * time.Hour)
	for i := range 5 {
		data.Transactions = append(data.Transactions, ob.Transaction{
			ID: fmt.Sprintf("debit-%d", i), AccountID: Acc1, Status: ob.TxBooked, Reference: fmt.Sprintf("R%d", i),
			BookingDateTime: base.Add(time.Duration(i) * time.Hour), Amount: gbp(-100 * int64(i+1)),
			CreditorAccount: &ob.AccountIdentification{SchemeName: ob.SchemeSortCodeAccountNumber, Identification: "40400411270111"},
		})
	}
	data.Transactions = append(data.Transactions, ob.Transaction{ID: "credit-x", AccountID: Acc1, Status: ob.TxBooked,
		BookingDateTime: base.Add(90 * time.Minute), Amount: gbp(5000)})
	MustImport(t, s, data)

	// Debit i is -(i+1).00 at base + i hours, paid to one account; the
	// debits are named by that index.
	ids := func(ds []payments.PastDebit) []string {
		var out []string
		for _, d := range ds {
			i := int(-d.Amount.Minor/100) - 1
			if i < 0 || i > 4 || d.Amount != gbp(-100*int64(i+1)) || !d.At.Equal(base.Add(time.Duration(i)*time.Hour)) ||
				d.CreditorScheme != ob.SchemeSortCodeAccountNumber || d.CreditorIdentification != "40400411270111" {
				t.Errorf("RiskHistory returned %+v, not one of the debits", d)
				continue
			}
			out = append(out, fmt.Sprintf("debit-%d", i))
		}
		slices.Sort(out)
		return out
	}
	h, err := s.RiskHistory(ctx, Acc1, base, 10)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"debit-0", "debit-1", "debit-2", "debit-3", "debit-4"}; !slices.Equal(ids(h.Debits), want) {
		t.Errorf("RiskHistory since base = %v, want %v", ids(h.Debits), want)
	}
	// The newest two only.
	h, err = s.RiskHistory(ctx, Acc1, base, 2)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"debit-3", "debit-4"}; !slices.Equal(ids(h.Debits), want) {
		t.Errorf("RiskHistory limit 2 = %v, want %v", ids(h.Debits), want)
	}
	// Rows written before the risk column are read from their records,
	// to the same answer.
	if opts.ForgetRisk == nil {
		t.Fatal("PaymentStoreOptions.ForgetRisk is required")
	}
	opts.ForgetRisk(t, s, Acc1)
	recheck := func(how string) {
		t.Helper()
		for limit, want := range map[int][]string{10: {"debit-0", "debit-1", "debit-2", "debit-3", "debit-4"}, 2: {"debit-3", "debit-4"}} {
			h, err := s.RiskHistory(ctx, Acc1, base, limit)
			if err != nil || !slices.Equal(ids(h.Debits), want) {
				t.Errorf("RiskHistory limit %d %s = %v, %v; want %v", limit, how, ids(h.Debits), err, want)
			}
		}
	}
	recheck("from records")
	// The backfill gives them their risk records again, in batches from
	// where the last one stopped, and then finds none to fill.
	n, next, err := s.BackfillRiskRecords(ctx, 0, 2)
	if err != nil || n != 2 || next <= 0 {
		t.Fatalf("BackfillRiskRecords(0, 2) = %d, %d, %v; want 2 filled", n, next, err)
	}
	rest, err := s.BackfillAllRiskRecords(ctx, 2)
	if err != nil || rest < 3 {
		t.Fatalf("BackfillAllRiskRecords = %d, %v; want the other debits (at least 3)", rest, err)
	}
	if again, err := s.BackfillAllRiskRecords(ctx, 2); err != nil || again != 0 {
		t.Errorf("BackfillAllRiskRecords again = %d, %v; want 0", again, err)
	}
	recheck("after the backfill")
	// A debit without a creditor account has none.
	cash := ob.Transaction{ID: "cash-1", AccountID: Acc1, Status: ob.TxBooked, BookingDateTime: base.Add(5 * time.Hour),
		Amount: gbp(-2000)}
	MustImport(t, s, &ob.BankData{Transactions: []ob.Transaction{cash}})
	if h, err := s.RiskHistory(ctx, Acc1, base.Add(5*time.Hour), 10); err != nil || len(h.Debits) != 1 ||
		h.Debits[0].Amount != gbp(-2000) || h.Debits[0].CreditorScheme != "" || h.Debits[0].CreditorIdentification != "" {
		t.Errorf("RiskHistory of a cash debit = %+v, %v", h.Debits, err)
	}
	if h, err := s.RiskHistory(ctx, Acc1, base.Add(10*time.Hour), 10); err != nil || len(h.Debits) != 0 {
		t.Errorf("RiskHistory after everything = %v, %v", h.Debits, err)
	}
	if h, err := s.RiskHistory(ctx, Acc2, base, 10); err != nil || len(h.Debits) != 0 {
		t.Errorf("RiskHistory of another account = %v, %v", h.Debits, err)
	}
	// The saved payees are the beneficiaries' creditor accounts, whole.
	var want []ob.AccountIdentification
	for _, b := range data.Beneficiaries {
		if b.AccountID == Acc1 && b.CreditorAccount != nil {
			want = append(want, *b.CreditorAccount)
		}
	}
	if len(want) == 0 {
		t.Fatal("the fixture has no beneficiary of Acc1 with a creditor account")
	}
	h, err = s.RiskHistory(ctx, Acc1, base, 0)
	if err != nil || len(h.Debits) != 0 {
		t.Fatalf("RiskHistory limit 0 = %v, %v", h.Debits, err)
	}
	byID := func(a, b ob.AccountIdentification) int { return strings.Compare(a.Identification, b.Identification) }
	slices.SortFunc(want, byID)
	slices.SortFunc(h.SavedPayees, byID)
	diff(t, "RiskHistory saved payees", want, h.SavedPayees)
	if h, err := s.RiskHistory(ctx, Acc2, base, 10); err != nil || len(h.SavedPayees) != 0 {
		t.Errorf("RiskHistory of Acc2: saved payees %v, %v", h.SavedPayees, err)
	}
}
