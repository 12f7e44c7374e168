package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/obank/obank/oauth"
	"github.com/obank/obank/ob"
	"github.com/obank/obank/payments"
	"github.com/obank/obank/web"
	"github.com/obank/obank/web/webstore"
)

// These tests drive the payment and funds-confirmation pages against the
// whole stack with a fake payment service: the page's logic is under test
// here (what it shows, what it sends, how it answers each outcome);
// browser_test.go runs the real service.

// fakePayments is a PaymentConsents over the stack's store. DebtorChoices
// offers the customer's open accounts, or only the one the consent names;
// Authorise authorises in the store, unless stepUp or reject says
// otherwise.
type fakePayments struct {
	store fullStore
	now   func() time.Time

	mu sync.Mutex
	// stepUp: Authorise wants SteppedUp.
	stepUp bool
	// fail, when set, is Authorise's answer.
	fail  error
	calls []payments.AuthoriseRequest
}

var _ web.PaymentConsents = (*fakePayments)(nil)

func (f *fakePayments) DebtorChoices(ctx context.Context, c ob.Consent, customerID string) ([]ob.Account, error) {
	var named string
	switch {
	case c.Kind == ob.KindFundsConfirmation:
		p, err := payments.DecodeFundsConsentPayload(c)
		if err != nil {
			return nil, err
		}
		named = p.DebtorAccount.Identification
	default:
		p, err := payments.DecodeConsentPayload(c)
		if err != nil {
			return nil, err
		}
		o, err := payments.ParseOrder(c.Kind, p.Initiation)
		if err != nil {
			return nil, err
		}
		if o.DebtorAccount != nil {
			named = o.DebtorAccount.Identification
		}
	}
	all, err := f.store.AccountsByCustomer(ctx, customerID)
	if err != nil {
		return nil, err
	}
	var out []ob.Account
	for _, a := range all {
		if a.Status != "Enabled" {
			continue
		}
		if named == "" || slices.ContainsFunc(a.Identifications, func(i ob.AccountIdentification) bool { return i.Identification == named }) {
			out = append(out, a)
		}
	}
	return out, nil
}

func (f *fakePayments) Authorise(ctx context.Context, req payments.AuthoriseRequest) (ob.Consent, error) {
	f.mu.Lock()
	f.calls = append(f.calls, req)
	stepUp, fail := f.stepUp, f.fail
	f.mu.Unlock()
	now := f.now()
	switch {
	case stepUp && !req.SteppedUp:
		return ob.Consent{}, payments.ErrStepUpRequired
	case ob.ErrorCode(fail) == payments.CodeRiskRejected:
		f.store.UpdateConsent(ctx, req.ConsentID, now, func(c *ob.Consent) error { return c.Reject(now) })
		return ob.Consent{}, fail
	case fail != nil:
		return ob.Consent{}, fail
	}
	return f.store.UpdateConsent(ctx, req.ConsentID, now, func(c *ob.Consent) error {
		return c.Authorise(req.CustomerID, []string{req.AccountID}, now)
	})
}

func (f *fakePayments) authorised() []payments.AuthoriseRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// withFakePayments gives the stack's journey a fakePayments, stored in *f.
func withFakePayments(f **fakePayments) stackOption {
	return func(c *web.Config) {
		*f = &fakePayments{store: c.Store.(fullStore), now: c.Now}
		c.Payments = *f
	}
}

// payee is the creditor of the test payments.
var payee = payments.Account{SchemeName: ob.SchemeSortCodeAccountNumber, Identification: "20000087654321", Name: "Harbour Lane Bakery"}

func domesticInitiation(debtor *payments.Account) payments.Initiation {
	return payments.Initiation{
		InstructionIdentification: "instr-1", EndToEndIdentification: "e2e-1", LocalInstrument: payments.InstrumentFPS,
		InstructedAmount: payments.Amount{Amount: "25.00", Currency: "GBP"}, DebtorAccount: debtor,
		CreditorAccount: payee, RemittanceInformation: &payments.RemittanceInformation{Reference: "INV-0042"},
	}
}

// createPaymentConsent stores a payment consent of the TPP, awaiting
// authorisation, as the payment service would.
func (st *stack) createPaymentConsent(kind ob.ConsentKind, initiation any) string {
	st.t.Helper()
	in, err := json.Marshal(initiation)
	if err != nil {
		st.t.Fatal(err)
	}
	payload, err := json.Marshal(payments.ConsentPayload{Initiation: in, Risk: json.RawMessage(`{}`)})
	if err != nil {
		st.t.Fatal(err)
	}
	return st.storeConsent(ob.Consent{Kind: kind, Payload: payload})
}

// createFundsConsent stores a funds-confirmation consent for an account
// identification.
func (st *stack) createFundsConsent(debtor payments.Account) string {
	st.t.Helper()
	payload, err := json.Marshal(payments.FundsConsentPayload{DebtorAccount: debtor})
	if err != nil {
		st.t.Fatal(err)
	}
	exp := st.clock.Now().Add(180 * 24 * time.Hour)
	return st.storeConsent(ob.Consent{Kind: ob.KindFundsConfirmation, Payload: payload, ExpirationDateTime: &exp})
}

func (st *stack) storeConsent(c ob.Consent) string {
	st.t.Helper()
	now := st.clock.Now()
	c.ID = "pc-" + uuid.NewString()
	c.TPPID, c.Status, c.CreationDateTime, c.StatusUpdateDateTime = st.client.ID, ob.ConsentAwaitingAuthorisation, now, now
	if err := st.store.CreateConsent(context.Background(), c); err != nil {
		st.t.Fatalf("CreateConsent: %v", err)
	}
	return c.ID
}

// account returns one of the customer's accounts.
func (st *stack) account(id string) ob.Account {
	st.t.Helper()
	as, err := st.store.AccountsByCustomer(context.Background(), st.login.CustomerID)
	if err != nil {
		st.t.Fatal(err)
	}
	for _, a := range as {
		if a.ID == id {
			return a
		}
	}
	st.t.Fatalf("no account %s", id)
	return ob.Account{}
}

// debtorOf is the identification the TPP names an account by.
func (st *stack) debtorOf(id string) *payments.Account {
	a := st.account(id)
	if len(a.Identifications) == 0 {
		st.t.Fatalf("account %s has no identification", id)
	}
	i := a.Identifications[0]
	return &payments.Account{SchemeName: i.SchemeName, Identification: i.Identification, Name: i.Name}
}

// signInTo follows the authorize URL of a consent of scope, signs in and
// returns the consent page.
func (st *stack) signInTo(b *browserClient, consentID, scope string) result {
	st.t.Helper()
	u, _ := st.authorizeURLScope(consentID, scope)
	b.get(u).want(st.t, "GET /authorize", http.StatusFound, web.PathLogin)
	return st.signIn(b, b.get(web.PathLogin).want(st.t, "GET /login", http.StatusOK, ""))
}

// wantBody fails unless body has each of wants.
func wantBody(tb testing.TB, what, body string, wants ...string) {
	tb.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			tb.Errorf("%s lacks %q", what, w)
		}
	}
}

func TestPaymentAllow(t *testing.T) {
	var f *fakePayments
	st := newStack(t, withFakePayments(&f))
	b := st.browser()
	consentID := st.createPaymentConsent(ob.KindDomesticPayment, domesticInitiation(nil))
	page := st.signInTo(b, consentID, oauth.ScopePayments)
	wantBody(t, "payment page", page.Body, "Budget Buddy", st.tpp.OrgName, "asks you to make a payment", "£25.00",
		"Harbour Lane Bakery", "UK account •••• 4321", "INV-0042", "Pay from", `type="radio"`)
	if strings.Contains(page.Body, payee.Identification) || strings.Contains(page.Body, "200000") {
		t.Error("payment page shows the payee's account number unmasked")
	}
	for _, id := range st.accounts {
		if !strings.Contains(page.Body, `value="`+id+`"`) {
			t.Errorf("payment page does not offer account %s", id)
		}
	}
	if strings.Contains(page.Body, " checked") {
		t.Error("payment page preselects an account out of several")
	}
	if csp := page.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' "+st.callback.URL+";") {
		t.Errorf("payment page CSP = %q, want form-action 'self' %s", csp, st.callback.URL)
	}

	// No account, or someone else's: the page again, nothing authorised.
	for name, form := range map[string]url.Values{
		"no account":                 {"csrf": {page.csrf()}, "decision": {"allow"}},
		"another customer's account": {"csrf": {page.csrf()}, "decision": {"allow"}, "account": {st.other}},
	} {
		r := b.post(web.PathConsent, form).want(t, "allow with "+name, http.StatusBadRequest, "")
		if !strings.Contains(r.Body, `role="alert"`) {
			t.Errorf("allow with %s: no error shown", name)
		}
	}
	if calls := f.authorised(); len(calls) != 0 {
		t.Fatalf("Authorise called %d times before a valid answer", len(calls))
	}

	chosen := st.accounts[1]
	r := b.post(web.PathConsent, url.Values{"csrf": {page.csrf()}, "decision": {"allow"}, "account": {chosen}})
	r.want(t, "POST /consent (allow)", http.StatusSeeOther, st.client.RedirectURIs[0]+"#")
	if p := redirectParams(t, r.Location); p.Get("code") == "" || p.Get("error") != "" {
		t.Fatalf("redirect params = %v, want a code", p)
	}
	want := []payments.AuthoriseRequest{{ConsentID: consentID, CustomerID: st.login.CustomerID, AccountID: chosen}}
	if got := f.authorised(); !slices.Equal(got, want) {
		t.Errorf("Authorise calls = %+v, want %+v", got, want)
	}
	if c := st.consent(consentID); c.Status != ob.ConsentAuthorised || !slices.Equal(c.AccountIDs, []string{chosen}) {
		t.Errorf("consent = %s with %v, want Authorised with [%s]", c.Status, c.AccountIDs, chosen)
	}
	if es := st.audit(); len(es) != 1 || es[0].Kind != webstore.AuditConsentAuthorised || es[0].ConsentID != consentID {
		t.Errorf("audit = %+v, want one %s", es, webstore.AuditConsentAuthorised)
	}
}

func TestPaymentDeny(t *testing.T) {
	var f *fakePayments
	st := newStack(t, withFakePayments(&f))
	b := st.browser()
	consentID := st.createPaymentConsent(ob.KindDomesticPayment, domesticInitiation(nil))
	page := st.signInTo(b, consentID, oauth.ScopePayments)
	r := b.post(web.PathConsent, url.Values{"csrf": {page.csrf()}, "decision": {"deny"}})
	r.want(t, "POST /consent (deny)", http.StatusSeeOther, st.client.RedirectURIs[0]+"#")
	if p := redirectParams(t, r.Location); p.Get("error") != "access_denied" {
		t.Errorf("redirect params = %v, want access_denied", p)
	}
	if c := st.consent(consentID); c.Status != ob.ConsentRejected {
		t.Errorf("consent status = %s, want Rejected", c.Status)
	}
	if len(f.authorised()) != 0 {
		t.Error("Deny called Authorise")
	}
}

func TestPaymentNamedDebtor(t *testing.T) {
	var f *fakePayments
	st := newStack(t, withFakePayments(&f))

	// The TPP named one of the customer's accounts: the only choice,
	// preselected.
	b := st.browser()
	named := st.accounts[2]
	consentID := st.createPaymentConsent(ob.KindDomesticPayment, domesticInitiation(st.debtorOf(named)))
	page := st.signInTo(b, consentID, oauth.ScopePayments)
	if n := strings.Count(page.Body, `type="radio"`); n != 1 || !strings.Contains(page.Body, `value="`+named+`" checked`) {
		t.Errorf("payment page with a named debtor: %d radios, want 1 preselected (%s)\n%s", n, named, page.Body)
	}
	b.post(web.PathConsent, url.Values{"csrf": {page.csrf()}, "decision": {"allow"}, "account": {named}}).
		want(t, "allow the named account", http.StatusSeeOther, st.client.RedirectURIs[0]+"#")

	// The TPP named an account the customer does not hold: an
	// explanation and only Deny.
	st.clock.Advance(30 * time.Second) // a new code for the new sign-in
	b = st.browser()
	foreign := &payments.Account{SchemeName: ob.SchemeSortCodeAccountNumber, Identification: "40000011112222", Name: "Someone"}
	consentID = st.createPaymentConsent(ob.KindDomesticPayment, domesticInitiation(foreign))
	page = st.signInTo(b, consentID, oauth.ScopePayments)
	wantBody(t, "payment page without a debtor", page.Body, "•••• 2222", "not one of your accounts", `value="deny"`)
	if strings.Contains(page.Body, `type="radio"`) || strings.Contains(page.Body, `value="allow"`) {
		t.Errorf("payment page without a debtor offers an account or Allow:\n%s", page.Body)
	}
	b.post(web.PathConsent, url.Values{"csrf": {page.csrf()}, "decision": {"allow"}, "account": {st.accounts[0]}}).
		want(t, "allow without a choice", http.StatusBadRequest, "")
	b.post(web.PathConsent, url.Values{"csrf": {page.csrf()}, "decision": {"deny"}}).
		want(t, "deny without a choice", http.StatusSeeOther, st.client.RedirectURIs[0]+"#")
	if c := st.consent(consentID); c.Status != ob.ConsentRejected {
		t.Errorf("consent status = %s, want Rejected", c.Status)
	}
	if got := len(f.authorised()); got != 1 {
		t.Errorf("Authorise called %d times, want 1 (the first consent)", got)
	}
}

func TestScheduledAndStandingOrderPages(t *testing.T) {
	var f *fakePayments
	st := newStack(t, withFakePayments(&f))
	at := time.Date(2031, time.March, 14, 9, 0, 0, 0, time.UTC)
	scheduled := payments.ScheduledInitiation{
		InstructionIdentification: "instr-2", RequestedExecutionDateTime: at,
		InstructedAmount: payments.Amount{Amount: "1250.5", Currency: "GBP"}, CreditorAccount: payee,
		RemittanceInformation: &payments.RemittanceInformation{Unstructured: "Rent March"},
	}
	b := st.browser()
	page := st.signInTo(b, st.createPaymentConsent(ob.KindDomesticScheduledPayment, scheduled), oauth.ScopePayments)
	wantBody(t, "scheduled payment page", page.Body, "Approve a scheduled payment", "asks you to schedule a payment",
		"£1,250.50", "Rent March", "Payment date", "14 March 2031")

	// A payment by Bacs says it takes days; by Faster Payments it says
	// nothing of the kind.
	for _, tt := range []struct{ instrument, want string }{
		{payments.InstrumentBACS, "by Bacs: in about three working days"},
		{payments.InstrumentCHAPS, "by CHAPS: the same working day"},
		{payments.InstrumentFPS, ""},
	} {
		in := domesticInitiation(nil)
		in.LocalInstrument = tt.instrument
		st.clock.Advance(30 * time.Second)
		b := st.browser()
		page := st.signInTo(b, st.createPaymentConsent(ob.KindDomesticPayment, in), oauth.ScopePayments)
		if tt.want == "" {
			if strings.Contains(page.Body, "Arrives") {
				t.Errorf("%s payment page says when it arrives:\n%s", tt.instrument, page.Body)
			}
			continue
		}
		wantBody(t, tt.instrument+" payment page", page.Body, "Arrives", tt.want)
	}

	recurring := payments.Amount{Amount: "40", Currency: "GBP"}
	final := payments.Amount{Amount: "15", Currency: "GBP"}
	standing := payments.StandingOrderInitiation{
		Frequency: "IntrvlWkDay:01:03", Reference: "Pocket money", NumberOfPayments: "12",
		FirstPaymentDateTime:   time.Date(2031, time.January, 1, 9, 0, 0, 0, time.UTC),
		FirstPaymentAmount:     payments.Amount{Amount: "50", Currency: "GBP"},
		RecurringPaymentAmount: &recurring, FinalPaymentAmount: &final, CreditorAccount: payee,
	}
	st.clock.Advance(30 * time.Second)
	b = st.browser()
	page = st.signInTo(b, st.createPaymentConsent(ob.KindDomesticStandingOrder, standing), oauth.ScopePayments)
	wantBody(t, "standing order page", page.Body, "Approve a standing order", "asks you to set up a standing order",
		"every week on Wednesday", "£50.00 on 1 January 2031", "£40.00 each", "£15.00 (the last payment)",
		"Number of payments", "12", "Pocket money")

	// An open-ended monthly one.
	standing = payments.StandingOrderInitiation{
		Frequency: "IntrvlMnthDay:01:15", FirstPaymentDateTime: time.Date(2031, time.January, 15, 9, 0, 0, 0, time.UTC),
		FirstPaymentAmount: payments.Amount{Amount: "9.99", Currency: "GBP"}, CreditorAccount: payee,
	}
	st.clock.Advance(30 * time.Second)
	b = st.browser()
	page = st.signInTo(b, st.createPaymentConsent(ob.KindDomesticStandingOrder, standing), oauth.ScopePayments)
	wantBody(t, "open-ended standing order page", page.Body, "every month on the 15th", "£9.99 each", "until you cancel it")
}

func TestPaymentStepUp(t *testing.T) {
	var f *fakePayments
	st := newStack(t, withFakePayments(&f))
	f.stepUp = true
	b := st.browser()
	consentID := st.createPaymentConsent(ob.KindDomesticPayment, domesticInitiation(nil))
	page := st.signInTo(b, consentID, oauth.ScopePayments)
	loginCode := st.totpCode()
	chosen := st.accounts[0]

	r := b.post(web.PathConsent, url.Values{"csrf": {page.csrf()}, "decision": {"allow"}, "account": {chosen}})
	r.want(t, "allow (step-up asked)", http.StatusOK, "")
	wantBody(t, "step-up page", r.Body, "For your security, confirm this payment with a new code from your authenticator app",
		`name="code"`, `autocomplete="one-time-code"`, `value="`+chosen+`" checked`, `name="stepup"`)
	if c := st.consent(consentID); c.Status != ob.ConsentAwaitingAuthorisation {
		t.Fatalf("consent became %s before the step-up", c.Status)
	}
	stepUp := func(code string) result {
		return b.post(web.PathConsent, url.Values{"csrf": {page.csrf()}, "decision": {"allow"}, "account": {chosen},
			"stepup": {"1"}, "code": {code}})
	}
	// No code: asked again, Authorise not called.
	if r := stepUp(""); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, `name="code"`) {
		t.Errorf("step-up without a code = %d, want 400 with the code field", r.Status)
	}
	// The code used at login is spent (replay protection), and a wrong
	// one fails.
	for name, code := range map[string]string{"the login's code": loginCode, "a wrong code": "000000"} {
		r := stepUp(code)
		if r.Status != http.StatusUnauthorized || !strings.Contains(r.Body, "used already") || !strings.Contains(r.Body, `name="code"`) {
			t.Errorf("step-up with %s = %d, want 401 with the message and the code field", name, r.Status)
		}
	}
	if got := len(f.authorised()); got != 1 {
		t.Errorf("Authorise called %d times, want 1 (the first Allow)", got)
	}
	st.clock.Advance(30 * time.Second)
	r = stepUp(st.totpCode())
	r.want(t, "step-up with a new code", http.StatusSeeOther, st.client.RedirectURIs[0]+"#")
	if p := redirectParams(t, r.Location); p.Get("code") == "" {
		t.Fatalf("redirect params = %v, want a code", p)
	}
	calls := f.authorised()
	if last := calls[len(calls)-1]; !last.SteppedUp || last.AccountID != chosen {
		t.Errorf("last Authorise = %+v, want SteppedUp for %s", last, chosen)
	}
	if c := st.consent(consentID); c.Status != ob.ConsentAuthorised {
		t.Errorf("consent = %s, want Authorised", c.Status)
	}
	if es := st.audit(); len(es) == 0 || !strings.Contains(es[len(es)-1].Detail, "new code") {
		t.Errorf("audit = %+v, want the step-up recorded", es)
	}
}

func TestPaymentStepUpLock(t *testing.T) {
	var f *fakePayments
	st := newStack(t, withFakePayments(&f))
	f.stepUp = true
	b := st.browser()
	page := st.signInTo(b, st.createPaymentConsent(ob.KindDomesticPayment, domesticInitiation(nil)), oauth.ScopePayments)
	form := url.Values{"csrf": {page.csrf()}, "decision": {"allow"}, "account": {st.accounts[0]}, "stepup": {"1"}, "code": {"999999"}}
	var last result
	for range 5 {
		last = b.post(web.PathConsent, form)
	}
	if last.Status != http.StatusTooManyRequests || !strings.Contains(last.Body, "locked") {
		t.Fatalf("fifth wrong step-up code = %d, want 429 locked", last.Status)
	}
	// The page session has ended; signing in again is locked too.
	b.post(web.PathConsent, form).want(t, "step-up after the lock", http.StatusBadRequest, "")
	b2 := st.browser()
	l := b2.get(web.PathLogin)
	b2.post(web.PathLogin, url.Values{"csrf": {l.csrf()}, "username": {st.login.Username}, "password": {st.login.Password}}).
		want(t, "login after the step-up lock", http.StatusTooManyRequests, "")
}

func TestPaymentRiskRejected(t *testing.T) {
	var f *fakePayments
	st := newStack(t, withFakePayments(&f))
	f.fail = &ob.Error{Code: payments.CodeRiskRejected, Message: "score 97: new payee, amount 40x the usual, device unknown"}
	b := st.browser()
	consentID := st.createPaymentConsent(ob.KindDomesticPayment, domesticInitiation(nil))
	page := st.signInTo(b, consentID, oauth.ScopePayments)
	r := b.post(web.PathConsent, url.Values{"csrf": {page.csrf()}, "decision": {"allow"}, "account": {st.accounts[0]}})
	r.want(t, "allow (risk rejected)", http.StatusSeeOther, st.client.RedirectURIs[0]+"#")
	p := redirectParams(t, r.Location)
	if p.Get("error") != "access_denied" || p.Get("code") != "" {
		t.Errorf("redirect params = %v, want access_denied", p)
	}
	if d := p.Get("error_description"); !strings.Contains(d, "could not be authorised") || strings.Contains(d, "score") {
		t.Errorf("error_description = %q, want only that the payment could not be authorised", d)
	}
	if c := st.consent(consentID); c.Status != ob.ConsentRejected {
		t.Errorf("consent = %s, want Rejected", c.Status)
	}
	if es := st.audit(); len(es) != 1 || es[0].Kind != webstore.AuditConsentRiskRejected {
		t.Errorf("audit = %+v, want one %s", es, webstore.AuditConsentRiskRejected)
	}
}

func TestPaymentAuthoriseStatusErrors(t *testing.T) {
	for _, code := range []string{ob.CodeResourceInvalidConsentStatus, ob.CodeResourceNotFound} {
		t.Run(code, func(t *testing.T) {
			var f *fakePayments
			st := newStack(t, withFakePayments(&f))
			f.fail = &ob.Error{Code: code, Message: "gone"}
			b := st.browser()
			page := st.signInTo(b, st.createPaymentConsent(ob.KindDomesticPayment, domesticInitiation(nil)), oauth.ScopePayments)
			r := b.post(web.PathConsent, url.Values{"csrf": {page.csrf()}, "decision": {"allow"}, "account": {st.accounts[0]}})
			r.want(t, "allow", http.StatusSeeOther, st.client.RedirectURIs[0]+"#")
			if p := redirectParams(t, r.Location); p.Get("error") != "access_denied" {
				t.Errorf("redirect params = %v, want access_denied", p)
			}
		})
	}
	// Anything else is the bank's failure: a 500 page, nothing leaked.
	var f *fakePayments
	st := newStack(t, withFakePayments(&f))
	f.fail = errors.New("ledger on fire")
	b := st.browser()
	page := st.signInTo(b, st.createPaymentConsent(ob.KindDomesticPayment, domesticInitiation(nil)), oauth.ScopePayments)
	r := b.post(web.PathConsent, url.Values{"csrf": {page.csrf()}, "decision": {"allow"}, "account": {st.accounts[0]}})
	if r.Status != http.StatusInternalServerError || strings.Contains(r.Body, "fire") {
		t.Errorf("allow with an internal error = %d, want a generic 500", r.Status)
	}
}

func TestPaymentsUnavailable(t *testing.T) {
	st := newStack(t) // no Payments
	for _, tc := range []struct {
		scope string
		id    string
	}{
		{oauth.ScopePayments, st.createPaymentConsent(ob.KindDomesticPayment, domesticInitiation(nil))},
		{oauth.ScopeFundsConfirmations, st.createFundsConsent(*st.debtorOf(st.accounts[0]))},
	} {
		st.clock.Advance(30 * time.Second)
		b := st.browser()
		u, _ := st.authorizeURLScope(tc.id, tc.scope)
		b.get(u).want(t, "GET /authorize", http.StatusFound, web.PathLogin)
		login := b.get(web.PathLogin)
		b.post(web.PathLogin, url.Values{"csrf": {login.csrf()}, "username": {st.login.Username}, "password": {st.login.Password}}).
			want(t, "POST /login", http.StatusSeeOther, web.PathTOTP)
		totp := b.get(web.PathTOTP)
		b.post(web.PathTOTP, url.Values{"csrf": {totp.csrf()}, "code": {st.totpCode()}}).
			want(t, "POST /login/totp", http.StatusSeeOther, web.PathConsent)
		r := b.get(web.PathConsent).want(t, "GET /consent ("+tc.scope+")", http.StatusFound, st.client.RedirectURIs[0]+"#")
		if p := redirectParams(t, r.Location); p.Get("error") != "access_denied" || !strings.Contains(p.Get("error_description"), "payments are not available") {
			t.Errorf("%s: redirect params = %v, want access_denied: payments are not available", tc.scope, p)
		}
	}
}

func TestFundsConsent(t *testing.T) {
	var f *fakePayments
	st := newStack(t, withFakePayments(&f))
	b := st.browser()
	acc := st.accounts[1]
	consentID := st.createFundsConsent(*st.debtorOf(acc))
	page := st.signInTo(b, consentID, oauth.ScopeFundsConfirmations)
	wantBody(t, "funds page", page.Body, "Allow funds checks", "Budget Buddy", "enough money", "does not see your balance",
		`value="`+acc+`" checked`, "Checks allowed until", date(st.consent(consentID).ExpirationDateTime))
	if n := strings.Count(page.Body, `type="radio"`); n != 1 {
		t.Errorf("funds page offers %d accounts, want only the named one", n)
	}
	r := b.post(web.PathConsent, url.Values{"csrf": {page.csrf()}, "decision": {"allow"}, "account": {acc}})
	r.want(t, "allow funds checks", http.StatusSeeOther, st.client.RedirectURIs[0]+"#")
	want := []payments.AuthoriseRequest{{ConsentID: consentID, CustomerID: st.login.CustomerID, AccountID: acc}}
	if got := f.authorised(); !slices.Equal(got, want) {
		t.Errorf("Authorise calls = %+v, want %+v", got, want)
	}

	// An account the customer does not hold: only Deny.
	st.clock.Advance(30 * time.Second)
	b = st.browser()
	other := st.createFundsConsent(payments.Account{SchemeName: ob.SchemeSortCodeAccountNumber, Identification: "40000011119999"})
	page = st.signInTo(b, other, oauth.ScopeFundsConfirmations)
	wantBody(t, "funds page without the account", page.Body, "•••• 9999", "not one of your open accounts", `value="deny"`)
	if strings.Contains(page.Body, `value="allow"`) {
		t.Error("funds page without the account offers Allow")
	}
}

func date(t *time.Time) string { return t.UTC().Format("2 January 2006") }

func TestDashboardPaymentAndFunds(t *testing.T) {
	var f *fakePayments
	st := newStack(t, withFakePayments(&f))
	ctx := context.Background()
	now := st.clock.Now()
	authorise := func(id, account string) {
		t.Helper()
		if _, err := st.store.UpdateConsent(ctx, id, now, func(c *ob.Consent) error {
			return c.Authorise(st.login.CustomerID, []string{account}, now)
		}); err != nil {
			t.Fatal(err)
		}
	}
	payID := st.createPaymentConsent(ob.KindDomesticPayment, domesticInitiation(nil))
	authorise(payID, st.accounts[0])
	fundsID := st.createFundsConsent(*st.debtorOf(st.accounts[1]))
	authorise(fundsID, st.accounts[1])

	b := st.browser()
	dash := st.signInDashboard(b)
	wantBody(t, "dashboard", dash.Body, "Payment", "£25.00 to Harbour Lane Bakery", "Allowed, not made yet",
		"Funds checks", "enough money", "/consents/"+fundsID+"/revoke")
	if strings.Contains(dash.Body, "/consents/"+payID+"/revoke") {
		t.Error("dashboard offers to revoke a payment consent")
	}
	b.post(web.PathDashboard+"/"+payID+"/revoke", url.Values{"csrf": {dash.csrf()}}).
		want(t, "revoke a payment consent", http.StatusBadRequest, "")
	if c := st.consent(payID); c.Status != ob.ConsentAuthorised {
		t.Errorf("payment consent after a revoke attempt = %s, want Authorised", c.Status)
	}

	b.post(web.PathDashboard+"/"+fundsID+"/revoke", url.Values{"csrf": {dash.csrf()}}).
		want(t, "revoke funds checks", http.StatusSeeOther, web.PathDashboard)
	if c := st.consent(fundsID); c.Status != ob.ConsentRevoked {
		t.Errorf("funds consent after revocation = %s, want Revoked", c.Status)
	}
	if g, err := st.store.AccessGrant(ctx, fundsID); err != nil || g.RevokedAt == nil {
		t.Errorf("funds grant after revocation = %+v, %v; want revoked", g, err)
	}
	if got := st.events.list(); !slices.Equal(got, []string{fundsID}) {
		t.Errorf("events hook got %v, want [%s]", got, fundsID)
	}
	if es := st.audit(); len(es) == 0 || es[len(es)-1].Kind != webstore.AuditConsentRevoked || es[len(es)-1].ConsentID != fundsID {
		t.Errorf("audit = %+v, want a final %s", es, webstore.AuditConsentRevoked)
	}
	// A second click changes and tells nothing more.
	b.post(web.PathDashboard+"/"+fundsID+"/revoke", url.Values{"csrf": {dash.csrf()}}).
		want(t, "revoke funds checks again", http.StatusSeeOther, web.PathDashboard)
	if got := st.events.list(); len(got) != 1 {
		t.Errorf("events hook got %v after a second revoke, want one event", got)
	}
	dash = b.get(web.PathDashboard)
	wantBody(t, "dashboard after revoking", dash.Body, "Revoked on")
	if strings.Contains(dash.Body, "/consents/"+fundsID+"/revoke") {
		t.Error("dashboard still offers to revoke the revoked funds consent")
	}
}
