package payments_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/obank/obank/events"
	"github.com/obank/obank/internal/sqlstore"
	"github.com/obank/obank/ledger"
	"github.com/obank/obank/ob"
	"github.com/obank/obank/obtest"
	"github.com/obank/obank/payments"
	"github.com/obank/obank/payments/risk"
	"github.com/obank/obank/postgres/pgtest"
	"github.com/obank/obank/sqlite"
)

// These tests run the service over the real SQLite store with the shared
// fixture bank: Alice holds Acc1 (current) and Acc2 (savings), both GBP.

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type fixture struct {
	t      *testing.T
	store  *sqlstore.Store
	svc    *payments.Service
	clock  *clock
	keys   int
	events *recordedEvents
}

// recordedEvents reads the resource-update events the service committed to
// the outbox (the real events.Publisher, with a polling subscription for
// tpp-1).
type recordedEvents struct {
	store *sqlstore.Store
	seen  map[string]bool
}

// take returns the outbox rows of tpp-1 not seen before, as
// "type id link".
func (r *recordedEvents) take() []string {
	ns, _, err := r.store.PendingForPolling(context.Background(), "tpp-1", 100)
	if err != nil {
		panic(err)
	}
	var out []string
	for _, n := range ns {
		if r.seen[n.JTI] {
			continue
		}
		r.seen[n.JTI] = true
		var c struct {
			Sub    string `json:"sub"`
			Events map[string]struct {
				Subject struct {
					RID string `json:"http://openbanking.org.uk/rid"`
					RTY string `json:"http://openbanking.org.uk/rty"`
				} `json:"subject"`
			} `json:"events"`
		}
		if err := json.Unmarshal(n.Claims, &c); err != nil {
			panic(err)
		}
		for _, e := range c.Events {
			out = append(out, "tpp-1 "+e.Subject.RTY+" "+e.Subject.RID+" "+c.Sub)
		}
	}
	return out
}

func openSQLite(t *testing.T) *sqlstore.Store {
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "obank.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newFixture(t *testing.T, riskCfg *risk.Config) *fixture {
	return newFixtureOn(t, openSQLite(t), riskCfg)
}

func newFixtureOn(t *testing.T, s *sqlstore.Store, riskCfg *risk.Config) *fixture {
	t.Helper()
	ctx := context.Background()
	data := obtest.Fixture()
	// The fixture has no InterimBooked balances, which the ledger opens
	// from and keeps in step: give the payers some.
	data.Balances = append(data.Balances,
		ob.Balance{AccountID: obtest.Acc1, Type: ob.BalanceInterimBooked, DateTime: obtest.FixtureTime(), Amount: ob.Money{Minor: 120000, Currency: "GBP"}},
		ob.Balance{AccountID: obtest.Acc2, Type: ob.BalanceInterimBooked, DateTime: obtest.FixtureTime(), Amount: ob.Money{Minor: 0, Currency: "GBP"}})
	if err := s.Import(ctx, data); err != nil {
		t.Fatal(err)
	}
	if _, err := ledger.Open(ctx, s, obtest.FixtureTime()); err != nil {
		t.Fatal(err)
	}
	// Mid-morning in London, a few weeks after the fixture's history.
	c := &clock{t: time.Date(2026, 2, 2, 10, 0, 0, 0, time.UTC)}
	if err := s.CreateSubscription(ctx, events.Subscription{ID: "sub-1", TPPID: "tpp-1", Version: "3.1",
		CreatedAt: c.Now(), UpdatedAt: c.Now()}); err != nil {
		t.Fatal(err)
	}
	ev := &recordedEvents{store: s, seen: map[string]bool{}}
	publisher := &events.Publisher{Store: s, Issuer: "https://bank.example", BaseURL: "https://bank.example", Now: c.Now}
	cfg := payments.Config{Store: s, Now: c.Now, Calendar: payments.WeekendsOnly, Events: publisher, LinkBase: "https://bank.example/"}
	if riskCfg != nil {
		e, err := risk.New(*riskCfg)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Risk = e
	}
	svc, err := payments.NewService(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, store: s, svc: svc, clock: c, events: ev}
}

func (f *fixture) key(body string) payments.IdempotencyKey {
	f.keys++
	return payments.IdempotencyKey{Key: fmt.Sprintf("k%d-%.20s", f.keys, body), RequestHash: sqlstore.HashBody([]byte(body))}
}

func (f *fixture) balance(id string) int64 {
	f.t.Helper()
	a, err := f.store.LedgerAccount(context.Background(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	return a.Balance.Minor
}

// bankBalance is the balance of one of the bank's own accounts, 0 before
// its first use creates it.
func (f *fixture) bankBalance(id string) int64 {
	f.t.Helper()
	a, err := f.store.LedgerAccount(context.Background(), id)
	if ob.ErrorCode(err) == ledger.CodeUnknownAccount {
		return 0
	} else if err != nil {
		f.t.Fatal(err)
	}
	return a.Balance.Minor
}

const (
	acc2SortCode = "60000187654321" // Acc2, at this bank
	external     = "20000055555555" // another bank
)

func domestic(amount, creditor string) payments.Initiation {
	return payments.Initiation{
		InstructionIdentification: "instr-1", EndToEndIdentification: "e2e-1",
		InstructedAmount: payments.Amount{Amount: amount, Currency: "GBP"},
		CreditorAccount: payments.Account{SchemeName: ob.SchemeSortCodeAccountNumber, Identification: creditor,
			Name: "Payee"},
		RemittanceInformation: &payments.RemittanceInformation{Reference: "INV-1"},
	}
}

var riskJSON = json.RawMessage(`{"PaymentContextCode":"EcommerceGoods"}`)

// authorised creates and authorises a consent as Alice with Acc1.
func (f *fixture) authorised(kind ob.ConsentKind, in any, perm string) ob.Consent {
	f.t.Helper()
	ctx := context.Background()
	c, replayed, err := f.svc.CreateConsent(ctx, payments.ConsentRequest{Kind: kind, TPPID: "tpp-1",
		Idempotency: f.key("consent"), Initiation: in, Risk: riskJSON, Permission: perm})
	if err != nil || replayed {
		f.t.Fatalf("CreateConsent: %v (replayed %v)", err, replayed)
	}
	if c.Status != ob.ConsentAwaitingAuthorisation {
		f.t.Fatalf("new consent is %s", c.Status)
	}
	c, err = f.svc.Authorise(ctx, payments.AuthoriseRequest{ConsentID: c.ID, CustomerID: obtest.Alice, AccountID: obtest.Acc1})
	if err != nil {
		f.t.Fatalf("Authorise: %v", err)
	}
	return c
}

func (f *fixture) submit(kind ob.ConsentKind, c ob.Consent, in any, key payments.IdempotencyKey) (payments.Payment, bool, error) {
	return f.svc.Submit(context.Background(), payments.OrderRequest{Kind: kind, TPPID: "tpp-1", GrantID: c.ID,
		ConsentID: c.ID, Idempotency: key, Initiation: in, Risk: riskJSON})
}

func TestDomesticPaymentSettles(t *testing.T) {
	tests := []struct {
		name        string
		amount      string
		creditor    string
		creditorAcc string // ledger account credited
		wantStatus  payments.Status
	}{
		{"internal", "10.50", acc2SortCode, obtest.Acc2, payments.StatusAcceptedSettlementCompleted},
		{"outbound through settlement", "7.25", external, ledger.SettlementAccount("GBP"), payments.StatusAcceptedSettlementCompleted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			ctx := context.Background()
			in := domestic(tt.amount, tt.creditor)
			c := f.authorised(ob.KindDomesticPayment, in, "")
			debtorBefore := f.balance(obtest.Acc1)
			creditorBefore := int64(0)
			if tt.creditorAcc == obtest.Acc2 {
				creditorBefore = f.balance(obtest.Acc2)
			}
			key := f.key("payment")
			p, replayed, err := f.submit(ob.KindDomesticPayment, c, in, key)
			if err != nil || replayed {
				t.Fatalf("Submit: %v (replayed %v)", err, replayed)
			}
			if p.Status != tt.wantStatus || p.DebtorAccountID != obtest.Acc1 || p.ConsentID != c.ID {
				t.Fatalf("payment = %+v", p)
			}
			wantEvent := "tpp-1 domestic-payment " + p.ID + " https://bank.example/open-banking/v3.1/pisp/domestic-payments/" + p.ID
			if ev := f.events.take(); len(ev) != 1 || ev[0] != wantEvent {
				t.Errorf("events = %q, want [%q]", ev, wantEvent)
			}
			m, _ := ob.ParseAmount(tt.amount, "GBP")
			if got := f.balance(obtest.Acc1); got != debtorBefore-m.Minor {
				t.Errorf("debtor balance %d, want %d", got, debtorBefore-m.Minor)
			}
			if got := f.balance(tt.creditorAcc); got != creditorBefore+m.Minor {
				t.Errorf("creditor balance %d, want %d", got, creditorBefore+m.Minor)
			}
			if c2, _ := f.store.Consent(ctx, c.ID); c2.Status != ob.ConsentConsumed {
				t.Errorf("consent is %s, want Consumed", c2.Status)
			}
			// The same key again returns the one payment, even though the
			// consent is consumed now; money does not move twice.
			again, replayed, err := f.submit(ob.KindDomesticPayment, c, in, key)
			if err != nil || !replayed || again.ID != p.ID {
				t.Fatalf("replay: %v, replayed %v, id %s want %s", err, replayed, again.ID, p.ID)
			}
			if got := f.balance(obtest.Acc1); got != debtorBefore-m.Minor {
				t.Errorf("debtor balance after replay %d", got)
			}
			if ev := f.events.take(); len(ev) != 0 {
				t.Errorf("a replay raised events %q", ev)
			}
			// Another key on the consumed consent is refused.
			if _, _, err := f.submit(ob.KindDomesticPayment, c, in, f.key("other")); ob.ErrorCode(err) != ob.CodeResourceInvalidConsentStatus {
				t.Errorf("second order: %v, want InvalidConsentStatus", err)
			}
			// The events are written with the change: none for what was
			// refused.
			if ev := f.events.take(); len(ev) != 0 {
				t.Errorf("a refused order raised events %q", ev)
			}
			xs, err := f.svc.Executions(ctx, p)
			if err != nil || len(xs) != 1 || xs[0].Status != tt.wantStatus || xs[0].EntryID != payments.ExecutionEntryID(p.ID, 0) {
				t.Errorf("executions = %+v, %v", xs, err)
			}
			rep, err := f.store.Verify(ctx)
			if err != nil || !rep.OK() {
				t.Errorf("ledger: %v %v", rep, err)
			}
		})
	}
}

func TestPaymentRejections(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()

	// Insufficient funds: a Rejected payment, nothing posted.
	limit := int64(0)
	a, err := f.store.LedgerAccount(ctx, obtest.Acc1)
	if err != nil {
		t.Fatal(err)
	}
	if a.Limit != nil {
		limit = *a.Limit
	}
	tooMuch := ob.Money{Minor: a.Balance.Minor + limit + 1, Currency: "GBP"}
	if tooMuch.Minor <= 0 || tooMuch.Minor > 5_000_000 {
		t.Fatalf("fixture balance %d does not allow this test", a.Balance.Minor)
	}
	in := domestic(tooMuch.AmountString(), external)
	c := f.authorised(ob.KindDomesticPayment, in, "")
	p, _, err := f.submit(ob.KindDomesticPayment, c, in, f.key("poor"))
	if err != nil || p.Status != payments.StatusRejected || p.StatusReason != payments.ReasonInsufficientFunds {
		t.Fatalf("payment = %+v, %v; want Rejected for funds", p, err)
	}
	if got := f.balance(obtest.Acc1); got != a.Balance.Minor {
		t.Errorf("balance moved to %d", got)
	}

	// An Initiation that differs from the consent's.
	in = domestic("1.00", external)
	c = f.authorised(ob.KindDomesticPayment, in, "")
	other := in
	other.InstructedAmount.Amount = "1.01"
	if _, _, err := f.submit(ob.KindDomesticPayment, c, other, f.key("mismatch")); ob.ErrorCode(err) != ob.CodeResourceConsentMismatch {
		t.Errorf("mismatch: %v", err)
	}
	// A token for another consent.
	_, _, err = f.svc.Submit(ctx, payments.OrderRequest{Kind: ob.KindDomesticPayment, TPPID: "tpp-1", GrantID: "pdc-other",
		ConsentID: c.ID, Idempotency: f.key("grant"), Initiation: in, Risk: riskJSON})
	if ob.ErrorCode(err) != ob.CodeResourceConsentMismatch {
		t.Errorf("foreign grant: %v", err)
	}
	// The same key with another body is refused.
	key := f.key("body-a")
	if _, _, err := f.submit(ob.KindDomesticPayment, c, in, key); err != nil {
		t.Fatal(err)
	}
	key.RequestHash = sqlstore.HashBody([]byte("body-b"))
	if _, _, err := f.submit(ob.KindDomesticPayment, c, in, key); ob.ErrorCode(err) != ob.CodeHeaderInvalid {
		t.Errorf("key reused with another body: %v", err)
	}
}

func TestScheduledPaymentRunsOnce(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	in := payments.ScheduledInitiation{
		InstructionIdentification: "sch-1", RequestedExecutionDateTime: f.clock.Now().Add(2 * time.Hour),
		InstructedAmount: payments.Amount{Amount: "3.00", Currency: "GBP"},
		CreditorAccount:  payments.Account{SchemeName: ob.SchemeSortCodeAccountNumber, Identification: acc2SortCode, Name: "Savings"},
	}
	c := f.authorised(ob.KindDomesticScheduledPayment, in, "Create")
	p, _, err := f.submit(ob.KindDomesticScheduledPayment, c, in, f.key("sched"))
	if err != nil || p.Status != payments.StatusInitiationCompleted || p.NextRunAt == nil {
		t.Fatalf("scheduled payment = %+v, %v", p, err)
	}
	sps, err := f.store.ScheduledPayments(ctx, []string{obtest.Acc1})
	if err != nil || !containsID(sps, p.ID, func(s ob.ScheduledPayment) string { return s.ID }) {
		t.Fatalf("AIS scheduled payments %+v, %v", sps, err)
	}
	before := f.balance(obtest.Acc1)
	if n, err := f.svc.RunDue(ctx, 10); n != 0 || err != nil {
		t.Fatalf("RunDue before the date = %d, %v", n, err)
	}
	f.clock.Add(3 * time.Hour)
	// Concurrent runners: exactly one executes it.
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := f.svc.RunDue(ctx, 10)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			total += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	if total != 1 {
		t.Fatalf("%d executions, want 1", total)
	}
	// One event when the order was made, one when it was executed.
	if ev := f.events.take(); len(ev) != 2 || !strings.Contains(ev[1], "domestic-scheduled-payment "+p.ID) {
		t.Errorf("events = %q", ev)
	}
	if got := f.balance(obtest.Acc1); got != before-300 {
		t.Errorf("balance %d, want %d", got, before-300)
	}
	sps, _ = f.store.ScheduledPayments(ctx, []string{obtest.Acc1})
	if containsID(sps, p.ID, func(s ob.ScheduledPayment) string { return s.ID }) {
		t.Error("executed payment still listed as scheduled")
	}
	xs, _ := f.store.Executions(ctx, p.ID)
	if len(xs) != 1 || xs[0].Status != payments.StatusAcceptedSettlementCompleted {
		t.Errorf("executions %+v", xs)
	}
}

func TestStandingOrderRunsEachPayment(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	first := f.clock.Now().Add(time.Hour)
	in := payments.StandingOrderInitiation{
		Frequency: "EvryDay", Reference: "RENT", NumberOfPayments: "3", FirstPaymentDateTime: first,
		FirstPaymentAmount:     payments.Amount{Amount: "1.00", Currency: "GBP"},
		RecurringPaymentAmount: &payments.Amount{Amount: "2.00", Currency: "GBP"},
		FinalPaymentAmount:     &payments.Amount{Amount: "3.00", Currency: "GBP"},
		CreditorAccount:        payments.Account{SchemeName: ob.SchemeSortCodeAccountNumber, Identification: external, Name: "Landlord"},
	}
	c := f.authorised(ob.KindDomesticStandingOrder, in, "Create")
	p, _, err := f.submit(ob.KindDomesticStandingOrder, c, in, f.key("so"))
	if err != nil || p.Status != payments.StatusInitiationCompleted {
		t.Fatalf("standing order = %+v, %v", p, err)
	}
	before := f.balance(obtest.Acc1)
	for day := range 5 {
		f.clock.Add(24 * time.Hour)
		n, err := f.svc.RunDue(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[bool]int{true: 1, false: 0}[day < 3]; n != want {
			t.Errorf("day %d: %d executions, want %d", day, n, want)
		}
	}
	if got := f.balance(obtest.Acc1); got != before-600 {
		t.Errorf("balance %d, want %d", got, before-600)
	}
	sos, err := f.store.StandingOrders(ctx, []string{obtest.Acc1})
	if err != nil {
		t.Fatal(err)
	}
	for _, so := range sos {
		if so.ID == p.ID {
			if so.Status != "Inactive" || so.LastPaymentAmount == nil || so.LastPaymentAmount.Minor != 300 {
				t.Errorf("AIS standing order %+v", so)
			}
			return
		}
	}
	t.Error("standing order not visible through AIS")
}

func TestFundsConfirmation(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	c, err := f.svc.CreateFundsConsent(ctx, payments.FundsConsentRequest{TPPID: "cbpii-1",
		DebtorAccount: payments.Account{SchemeName: "SortCodeAccountNumber", Identification: "60000112345678", Name: "A Smith"}})
	if err != nil {
		t.Fatal(err)
	}
	// Only the named account can be chosen.
	if _, err := f.svc.Authorise(ctx, payments.AuthoriseRequest{ConsentID: c.ID, CustomerID: obtest.Alice, AccountID: obtest.Acc2}); ob.ErrorCode(err) != ob.CodeFieldInvalid {
		t.Errorf("authorise with another account: %v", err)
	}
	if _, err := f.svc.Authorise(ctx, payments.AuthoriseRequest{ConsentID: c.ID, CustomerID: obtest.Alice, AccountID: obtest.Acc1}); err != nil {
		t.Fatal(err)
	}
	bal := f.balance(obtest.Acc1)
	check := func(amount, currency string) (payments.FundsConfirmation, error) {
		return f.svc.ConfirmFunds(ctx, payments.FundsCheck{TPPID: "cbpii-1", GrantID: c.ID, ConsentID: c.ID,
			Reference: "basket-1", Amount: payments.Amount{Amount: amount, Currency: currency}})
	}
	if fc, err := check("1.00", "GBP"); err != nil || !fc.Available {
		t.Errorf("small amount: %+v, %v", fc, err)
	}
	if fc, err := check(ob.Money{Minor: bal + 1_000_000_00, Currency: "GBP"}.AmountString(), "GBP"); err != nil || fc.Available {
		t.Errorf("huge amount: %+v, %v", fc, err)
	}
	if _, err := check("1.00", "EUR"); ob.ErrorCode(err) != ob.CodeFieldInvalid {
		t.Errorf("another currency: %v", err)
	}
	if _, err := f.svc.DeleteFundsConsent(ctx, "cbpii-1", c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := check("1.00", "GBP"); ob.ErrorCode(err) != ob.CodeResourceNotFound {
		t.Errorf("after delete: %v", err)
	}
}

func TestRiskStepUpAndReject(t *testing.T) {
	strict := func(action risk.Decision) *risk.Config {
		cfg := risk.DefaultConfig()
		cfg.MediumAt, cfg.HighAt, cfg.HighAction = 0.01, 0.02, action
		return &cfg
	}
	ctx := context.Background()

	f := newFixture(t, strict(risk.StepUp))
	in := domestic("5.00", external) // a new payee: enough for the strict thresholds
	c, _, err := f.svc.CreateConsent(ctx, payments.ConsentRequest{Kind: ob.KindDomesticPayment, TPPID: "tpp-1",
		Idempotency: f.key("c"), Initiation: in, Risk: riskJSON})
	if err != nil {
		t.Fatal(err)
	}
	req := payments.AuthoriseRequest{ConsentID: c.ID, CustomerID: obtest.Alice, AccountID: obtest.Acc1}
	if _, err := f.svc.Authorise(ctx, req); !errors.Is(err, payments.ErrStepUpRequired) {
		t.Fatalf("Authorise without step-up: %v", err)
	}
	req.SteppedUp = true
	if c, err = f.svc.Authorise(ctx, req); err != nil {
		t.Fatal(err)
	}
	pl, _ := payments.DecodeConsentPayload(c)
	if pl.Assessment == nil || pl.Assessment.Level != risk.High || !pl.SteppedUp || len(pl.Assessment.Reasons) == 0 {
		t.Errorf("stored assessment %+v stepped up %v", pl.Assessment, pl.SteppedUp)
	}
	p, _, err := f.submit(ob.KindDomesticPayment, c, in, f.key("p"))
	if err != nil || p.Status != payments.StatusAcceptedSettlementCompleted || p.Assessment == nil {
		t.Errorf("stepped-up payment = %+v, %v", p, err)
	}

	f = newFixture(t, strict(risk.Reject))
	c, _, err = f.svc.CreateConsent(ctx, payments.ConsentRequest{Kind: ob.KindDomesticPayment, TPPID: "tpp-1",
		Idempotency: f.key("c"), Initiation: in, Risk: riskJSON})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.Authorise(ctx, payments.AuthoriseRequest{ConsentID: c.ID, CustomerID: obtest.Alice, AccountID: obtest.Acc1})
	if ob.ErrorCode(err) != payments.CodeRiskRejected {
		t.Fatalf("Authorise under a rejecting policy: %v", err)
	}
	if c, _ = f.store.Consent(ctx, c.ID); c.Status != ob.ConsentRejected {
		t.Errorf("consent is %s, want Rejected", c.Status)
	}
}

func TestConsentValidationAndIdempotency(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	tests := []struct {
		name string
		req  payments.ConsentRequest
		code string
	}{
		{"no risk", payments.ConsentRequest{Kind: ob.KindDomesticPayment, Initiation: domestic("1.00", external)}, ob.CodeFieldMissing},
		{"risk not an object", payments.ConsentRequest{Kind: ob.KindDomesticPayment, Initiation: domestic("1.00", external), Risk: json.RawMessage(`[]`)}, ob.CodeFieldInvalid},
		{"over the limit", payments.ConsentRequest{Kind: ob.KindDomesticPayment, Initiation: domestic("50000.01", external), Risk: riskJSON}, ob.CodeFieldInvalid},
		{"zero", payments.ConsentRequest{Kind: ob.KindDomesticPayment, Initiation: domestic("0.00", external), Risk: riskJSON}, ob.CodeFieldInvalid},
		{"scheduled without permission", payments.ConsentRequest{Kind: ob.KindDomesticScheduledPayment, Risk: riskJSON,
			Initiation: payments.ScheduledInitiation{InstructionIdentification: "x", RequestedExecutionDateTime: f.clock.Now().Add(time.Hour),
				InstructedAmount: payments.Amount{Amount: "1.00", Currency: "GBP"},
				CreditorAccount:  payments.Account{SchemeName: ob.SchemeSortCodeAccountNumber, Identification: external, Name: "P"}}}, ob.CodeFieldMissing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.TPPID, tt.req.Idempotency = "tpp-1", f.key(tt.name)
			if _, _, err := f.svc.CreateConsent(ctx, tt.req); ob.ErrorCode(err) != tt.code {
				t.Errorf("err = %v, want %s", err, tt.code)
			}
		})
	}
	// Concurrent duplicates create one consent.
	key := f.key("dup")
	var wg sync.WaitGroup
	ids := make([]string, 20)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, _, err := f.svc.CreateConsent(ctx, payments.ConsentRequest{Kind: ob.KindDomesticPayment, TPPID: "tpp-1",
				Idempotency: key, Initiation: domestic("1.00", external), Risk: riskJSON})
			if err != nil {
				t.Error(err)
			}
			ids[i] = c.ID
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] || id == "" {
			t.Fatalf("ids differ: %v", ids)
		}
	}
}

func containsID[T any](xs []T, id string, get func(T) string) bool {
	for _, x := range xs {
		if get(x) == id {
			return true
		}
	}
	return false
}

func TestDebtorChoices(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	c, _, err := f.svc.CreateConsent(ctx, payments.ConsentRequest{Kind: ob.KindDomesticPayment, TPPID: "tpp-1",
		Idempotency: f.key("c"), Initiation: domestic("1.00", external), Risk: riskJSON})
	if err != nil {
		t.Fatal(err)
	}
	ids := func(as []ob.Account, err error) []string {
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, a := range as {
			out = append(out, a.ID)
		}
		return out
	}
	// Bob holds the joint savings account and a credit card: a card is
	// paid into, not from.
	if got := ids(f.svc.DebtorChoices(ctx, c, obtest.Bob)); !slices.Equal(got, []string{obtest.Acc2}) {
		t.Errorf("Bob's choices = %v, want [%s]", got, obtest.Acc2)
	}
	if got := ids(f.svc.DebtorChoices(ctx, c, obtest.Alice)); !slices.Equal(got, []string{obtest.Acc1, obtest.Acc2}) {
		t.Errorf("Alice's choices = %v", got)
	}
	// A consent naming its debtor account offers only that one.
	in := domestic("1.00", external)
	in.DebtorAccount = &payments.Account{SchemeName: "SortCodeAccountNumber", Identification: "60000112345678"}
	c, _, err = f.svc.CreateConsent(ctx, payments.ConsentRequest{Kind: ob.KindDomesticPayment, TPPID: "tpp-1",
		Idempotency: f.key("named"), Initiation: in, Risk: riskJSON})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(f.svc.DebtorChoices(ctx, c, obtest.Alice)); !slices.Equal(got, []string{obtest.Acc1}) {
		t.Errorf("choices for a named debtor = %v, want [%s]", got, obtest.Acc1)
	}
	if got := ids(f.svc.DebtorChoices(ctx, c, obtest.Bob)); len(got) != 0 {
		t.Errorf("Bob may pay from Alice's named account: %v", got)
	}
}

// TestDeferredSettlement: a Bacs payment, or a CHAPS one after the bank's
// cut-off, to another bank is accepted with its money taken from the
// customer into clearing at once, and settled by the scheduler when its
// scheme moves the money.
func TestDeferredSettlement(t *testing.T) {
	for _, store := range []struct {
		name string
		open func(*testing.T) *sqlstore.Store
	}{
		{"sqlite", openSQLite},
		{"postgres", func(t *testing.T) *sqlstore.Store { return pgtest.OpenTestStore(t) }}, // skips without OBANK_TEST_POSTGRES_DSN
	} {
		t.Run(store.name, func(t *testing.T) { testDeferredSettlement(t, store.open) })
	}
}

func testDeferredSettlement(t *testing.T, open func(*testing.T) *sqlstore.Store) {
	bacs := func(amount, creditor string) payments.Initiation {
		in := domestic(amount, creditor)
		in.LocalInstrument = payments.InstrumentBACS
		return in
	}
	clearing, settlement := ledger.ClearingAccount("GBP"), ledger.SettlementAccount("GBP")
	t.Run("Bacs settles two working days later", func(t *testing.T) {
		f := newFixtureOn(t, open(t), nil)
		ctx := context.Background()
		in := bacs("7.25", external)
		c := f.authorised(ob.KindDomesticPayment, in, "")
		before := f.balance(obtest.Acc1)
		key := f.key("bacs")
		p, _, err := f.submit(ob.KindDomesticPayment, c, in, key)
		// Monday 2 February 2026, 10:00: submitted today, credited on
		// Wednesday when the day opens.
		due := time.Date(2026, 2, 4, 6, 0, 0, 0, time.UTC)
		if err != nil || p.Status != payments.StatusAcceptedSettlementInProcess || p.NextRunAt == nil || !p.NextRunAt.Equal(due) {
			t.Fatalf("Submit = %+v, %v; want AcceptedSettlementInProcess due %s", p, err, due)
		}
		if got := f.balance(obtest.Acc1); got != before-725 {
			t.Errorf("balance after acceptance %d, want %d: the money leaves the customer at once", got, before-725)
		}
		if got := f.bankBalance(clearing); got != 725 {
			t.Errorf("clearing after acceptance %d, want 725", got)
		}
		if xs, _ := f.store.Executions(ctx, p.ID); len(xs) != 0 {
			t.Errorf("executions before settlement: %+v", xs)
		}
		if ev := f.events.take(); len(ev) != 1 {
			t.Errorf("events at acceptance = %q, want 1", ev)
		}
		// A retry with the key answers the accepted payment and takes
		// nothing more.
		if again, replayed, err := f.submit(ob.KindDomesticPayment, c, in, key); err != nil || !replayed || again.ID != p.ID {
			t.Fatalf("replay = %+v, %v, %v", again, replayed, err)
		}
		if got := f.balance(obtest.Acc1); got != before-725 {
			t.Errorf("balance after the replay %d, want %d", got, before-725)
		}
		f.clock.Add(43 * time.Hour) // Wednesday 05:00
		if n, err := f.svc.RunDue(ctx, 10); n != 0 || err != nil {
			t.Fatalf("RunDue before it is due = %d, %v", n, err)
		}
		f.clock.Add(time.Hour)
		settlementBefore := f.bankBalance(settlement)
		if n, err := f.svc.RunDue(ctx, 10); n != 1 || err != nil {
			t.Fatalf("RunDue when due = %d, %v", n, err)
		}
		got, err := f.store.Payment(ctx, p.ID)
		if err != nil || got.Status != payments.StatusAcceptedSettlementCompleted || got.NextRunAt != nil || got.RunsDone != 1 {
			t.Fatalf("after settlement: %+v, %v", got, err)
		}
		if b := f.balance(obtest.Acc1); b != before-725 {
			t.Errorf("balance after settlement %d, want %d", b, before-725)
		}
		if c, s := f.bankBalance(clearing), f.bankBalance(settlement); c != 0 || s != settlementBefore+725 {
			t.Errorf("after settlement: clearing %d, settlement %d; want 0 and %d", c, s, settlementBefore+725)
		}
		xs, _ := f.store.Executions(ctx, p.ID)
		if len(xs) != 1 || xs[0].Status != payments.StatusAcceptedSettlementCompleted || !xs[0].At.Equal(due) {
			t.Errorf("executions %+v", xs)
		}
		if ev := f.events.take(); len(ev) != 1 || !strings.Contains(ev[0], p.ID) {
			t.Errorf("events at settlement = %q", ev)
		}
		if n, err := f.svc.RunDue(ctx, 10); n != 0 || err != nil {
			t.Errorf("RunDue again = %d, %v", n, err)
		}
		if rep, err := f.store.Verify(ctx); err != nil || !rep.OK() {
			t.Errorf("ledger: %v %v", rep, err)
		}
	})
	t.Run("the money cannot be spent twice", func(t *testing.T) {
		f := newFixtureOn(t, open(t), nil)
		in := bacs("1000.00", external)
		c := f.authorised(ob.KindDomesticPayment, in, "")
		p, _, err := f.submit(ob.KindDomesticPayment, c, in, f.key("bacs-big"))
		if err != nil || p.Status != payments.StatusAcceptedSettlementInProcess {
			t.Fatalf("Submit = %+v, %v", p, err)
		}
		// What the Bacs payment took cannot pay for this one.
		fps := domestic("900.00", external)
		c2 := f.authorised(ob.KindDomesticPayment, fps, "")
		before := f.balance(obtest.Acc1)
		p2, _, err := f.submit(ob.KindDomesticPayment, c2, fps, f.key("fps"))
		if err != nil || p2.Status != payments.StatusRejected || p2.StatusReason != payments.ReasonInsufficientFunds {
			t.Fatalf("FPS after the Bacs payment = %s %q, %v; want rejected for funds", p2.Status, p2.StatusReason, err)
		}
		if b := f.balance(obtest.Acc1); b != before {
			t.Errorf("a rejected payment moved money: %d, want %d", b, before)
		}
	})
	t.Run("refused at acceptance", func(t *testing.T) {
		f := newFixtureOn(t, open(t), nil)
		ctx := context.Background()
		in := bacs("5000.00", external) // the account holds 1200.00 and a small overdraft
		c := f.authorised(ob.KindDomesticPayment, in, "")
		before := f.balance(obtest.Acc1)
		p, _, err := f.submit(ob.KindDomesticPayment, c, in, f.key("bacs-too-big"))
		if err != nil || p.Status != payments.StatusRejected || p.StatusReason != payments.ReasonInsufficientFunds ||
			p.NextRunAt != nil || p.RunsDone != 1 {
			t.Fatalf("Submit = %+v, %v; want rejected for funds at once", p, err)
		}
		if b := f.balance(obtest.Acc1); b != before {
			t.Errorf("a rejected payment moved money: %d, want %d", b, before)
		}
		if xs, _ := f.store.Executions(ctx, p.ID); len(xs) != 1 || xs[0].Status != payments.StatusRejected {
			t.Errorf("executions %+v, want one rejected", xs)
		}
		f.clock.Add(72 * time.Hour)
		if n, err := f.svc.RunDue(ctx, 10); n != 0 || err != nil {
			t.Errorf("RunDue = %d, %v; want nothing due", n, err)
		}
	})
	// A payment accepted before the bank took the money at acceptance (no
	// acceptance entry in the ledger) is paid from the customer when it
	// settles, funds checked then, as it was accepted to be.
	for _, tt := range []struct {
		name       string
		amount     int64
		want       payments.Status
		wantReason string
	}{
		{"accepted the old way, settled", 725, payments.StatusAcceptedSettlementCompleted, ""},
		{"accepted the old way, refused for funds", 500000, payments.StatusRejected, payments.ReasonInsufficientFunds},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixtureOn(t, open(t), nil)
			ctx := context.Background()
			in := bacs(ob.Money{Minor: tt.amount, Currency: "GBP"}.AmountString(), external)
			c := f.authorised(ob.KindDomesticPayment, in, "")
			raw, err := json.Marshal(in)
			if err != nil {
				t.Fatal(err)
			}
			now := f.clock.Now()
			due := now.Add(44 * time.Hour)
			legacy := payments.Payment{ID: "pdp-legacy", Kind: ob.KindDomesticPayment, ConsentID: c.ID, TPPID: "tpp-1",
				CustomerID: obtest.Alice, DebtorAccountID: obtest.Acc1, Status: payments.StatusAcceptedSettlementInProcess,
				CreationDateTime: now, StatusUpdateDateTime: now, Initiation: raw,
				Amount: ob.Money{Minor: tt.amount, Currency: "GBP"}, NextRunAt: &due}
			key := f.key("legacy")
			key.TPPID, key.Kind, key.Now = "tpp-1", "domestic-payment", now
			if _, _, err := f.store.Idempotent(ctx, key, func(ctx context.Context, tx payments.Tx) (string, error) {
				return legacy.ID, tx.InsertPayment(ctx, legacy)
			}); err != nil {
				t.Fatal(err)
			}
			before := f.balance(obtest.Acc1)
			f.clock.Add(44 * time.Hour)
			if n, err := f.svc.RunDue(ctx, 10); n != 1 || err != nil {
				t.Fatalf("RunDue = %d, %v", n, err)
			}
			got, _ := f.store.Payment(ctx, legacy.ID)
			if got.Status != tt.want || got.StatusReason != tt.wantReason || got.NextRunAt != nil {
				t.Errorf("after settlement: %s %q, want %s %q", got.Status, got.StatusReason, tt.want, tt.wantReason)
			}
			wantBalance := before
			if tt.want != payments.StatusRejected {
				wantBalance -= tt.amount
			}
			if b := f.balance(obtest.Acc1); b != wantBalance {
				t.Errorf("balance %d, want %d", b, wantBalance)
			}
			if c := f.bankBalance(clearing); c != 0 {
				t.Errorf("clearing %d, want 0", c)
			}
			if rep, err := f.store.Verify(ctx); err != nil || !rep.OK() {
				t.Errorf("ledger: %v %v", rep, err)
			}
		})
	}
	for _, tt := range []struct {
		name       string
		instrument string
		hour       int
		creditor   string
		want       payments.Status
	}{
		{"CHAPS in the day settles at once", payments.InstrumentCHAPS, 10, external, payments.StatusAcceptedSettlementCompleted},
		{"CHAPS after the cut-off waits", payments.InstrumentCHAPS, 17, external, payments.StatusAcceptedSettlementInProcess},
		{"Bacs to this bank is a book transfer", payments.InstrumentBACS, 10, acc2SortCode, payments.StatusAcceptedSettlementCompleted},
		{"FPS at night settles at once", payments.InstrumentFPS, 23, external, payments.StatusAcceptedSettlementCompleted},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixtureOn(t, open(t), nil)
			f.clock.Add(time.Duration(tt.hour-10) * time.Hour)
			in := domestic("1.00", tt.creditor)
			in.LocalInstrument = tt.instrument
			c := f.authorised(ob.KindDomesticPayment, in, "")
			p, _, err := f.submit(ob.KindDomesticPayment, c, in, f.key("x"))
			if err != nil || p.Status != tt.want {
				t.Fatalf("Submit = %s, %v; want %s", p.Status, err, tt.want)
			}
		})
	}
}
