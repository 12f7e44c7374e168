package web_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/obank/obank/oauth"
	"github.com/obank/obank/ob"
	"github.com/obank/obank/payments"
	"github.com/obank/obank/payments/risk"
)

// Browser tests: Debian's chromium, driven by chromedp, walks the whole
// journey against the whole stack. They run when OBANK_TEST_CHROMIUM names
// the chromium binary, and save a screenshot of every page under one
// directory per test binary (kept, logged).

// artefacts is the screenshot directory, made on first use.
var artefacts struct {
	once sync.Once
	dir  string
	err  error
}

func screenshotDir(tb testing.TB) string {
	tb.Helper()
	artefacts.once.Do(func() { artefacts.dir, artefacts.err = os.MkdirTemp("", "obank-web-screenshots-") })
	if artefacts.err != nil {
		tb.Fatal(artefacts.err)
	}
	return artefacts.dir
}

// chrome is one headless browser for one test.
type chrome struct {
	t   testing.TB
	ctx context.Context
	dir string
}

func newChrome(t *testing.T) *chrome {
	t.Helper()
	bin := os.Getenv("OBANK_TEST_CHROMIUM")
	if bin == "" {
		t.Skip("OBANK_TEST_CHROMIUM not set: skipping browser tests")
	}
	profile, err := os.MkdirTemp("", "obank-chromium-profile-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(profile) })
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.NoSandbox, // the tests run as root in CI
		chromedp.DisableGPU,
		chromedp.UserDataDir(profile),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.WindowSize(480, 1000), // a phone-sized window: the pages must fit
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	bctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	// The first call starts the browser, which lives as long as that
	// call's context: no timeout on it, only on the actions after.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium %s: %v", bin, err)
	}
	ctx, cancelTimeout := context.WithTimeout(bctx, 90*time.Second)
	t.Cleanup(cancelTimeout)
	dir := filepath.Join(screenshotDir(t), t.Name())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots of %s: %s", t.Name(), dir)
	return &chrome{t: t, ctx: ctx, dir: dir}
}

// run runs browser actions in order, failing the test on error.
func (c *chrome) run(what string, steps ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	if err := chromedp.Do(c.ctx, steps...); err != nil {
		c.t.Fatalf("browser: %s: %v", what, err)
	}
}

// submit runs actions that end in a form submission (or another
// navigation) and waits until the next page loaded, so later queries never
// see the page before. It returns the HTTP status of that page.
func (c *chrome) submit(what string, steps ...chromedp.Action[chromedp.Void]) int64 {
	c.t.Helper()
	resp, err := chromedp.RunResponse(c.ctx, steps...)
	if err != nil {
		c.t.Fatalf("browser: %s: %v", what, err)
	}
	return resp.Status
}

// get runs one action that returns a value.
func get[T any](c *chrome, what string, a chromedp.Action[T]) T {
	c.t.Helper()
	v, err := chromedp.Run(c.ctx, a)
	if err != nil {
		c.t.Fatalf("browser: %s: %v", what, err)
	}
	return v
}

// shot saves a full-page screenshot as name.png.
func (c *chrome) shot(name string) {
	c.t.Helper()
	png := get(c, "screenshot "+name, chromedp.FullScreenshot(100)) // quality 100 is PNG; below, JPEG
	if err := os.WriteFile(filepath.Join(c.dir, name+".png"), png, 0o644); err != nil {
		c.t.Fatal(err)
	}
}

// location returns the current URL (with its fragment).
func (c *chrome) location() string {
	c.t.Helper()
	return get(c, "location", chromedp.Location())
}

// waitLocation waits until the browser is at a URL starting with prefix.
func (c *chrome) waitLocation(prefix string) string {
	c.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		u := c.location()
		if strings.HasPrefix(u, prefix) {
			return u
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("browser at %s, want %s...", u, prefix)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// text returns the visible text of the page's main element.
func (c *chrome) text() string {
	c.t.Helper()
	return get(c, "read main", chromedp.Text(chromedp.CSS("main")))
}

func (c *chrome) signIn(st *stack, prefix string) {
	c.t.Helper()
	c.run("login page", chromedp.WaitVisible(chromedp.CSS("#username")))
	c.shot(prefix + "1-login")
	c.submit("log in",
		chromedp.SendKeys(chromedp.CSS("#username"), st.login.Username),
		chromedp.SendKeys(chromedp.CSS("#password"), st.login.Password),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
	)
	c.run("TOTP page", chromedp.WaitVisible(chromedp.CSS("#code")))
	c.shot(prefix + "2-totp")
	c.submit("enter the code",
		chromedp.SendKeys(chromedp.CSS("#code"), st.totpCode()),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
	)
}

func TestBrowserAllowTwoOfThree(t *testing.T) {
	c := newChrome(t)
	st := newStack(t)
	consentID := st.createConsent()
	u, state := st.authorizeURL(consentID)
	c.run("open the authorize URL", chromedp.Navigate(u))
	c.signIn(st, "0")
	c.run("consent page", chromedp.WaitVisible(chromedp.CSS("fieldset")))
	c.shot("03-consent")
	if txt := c.text(); !strings.Contains(txt, "Budget Buddy") || !strings.Contains(txt, "Your account balances") {
		t.Errorf("consent page text lacks the TPP or a permission:\n%s", txt)
	}
	chosen := st.accounts[:2]
	for _, id := range chosen {
		c.run("tick "+id, chromedp.Click(chromedp.CSS(`input[name="account"][value="`+id+`"]`)))
	}
	c.shot("04-consent-ticked")
	c.submit("allow", chromedp.Click(chromedp.CSS(`button[value="allow"]`)))
	back := c.waitLocation(st.client.RedirectURIs[0])
	c.run("TPP page", chromedp.WaitVisible(chromedp.CSS("h1")))
	c.shot("05-back-at-tpp")

	p := redirectParams(t, back)
	if p.Get("code") == "" || p.Get("id_token") == "" || p.Get("state") != state {
		t.Fatalf("redirect to the TPP = %s, want code, id_token and state %s", back, state)
	}
	token := st.exchange(p.Get("code"))
	status, ids := st.accountIDs(token)
	if status != http.StatusOK || !slices.Equal(ids, chosen) {
		t.Errorf("GET /accounts = %d %v, want exactly %v", status, ids, chosen)
	}
}

func TestBrowserDeny(t *testing.T) {
	c := newChrome(t)
	st := newStack(t)
	consentID := st.createConsent()
	u, state := st.authorizeURL(consentID)
	c.run("open the authorize URL", chromedp.Navigate(u))
	c.signIn(st, "0")
	c.run("consent page", chromedp.WaitVisible(chromedp.CSS("fieldset")))
	c.submit("deny", chromedp.Click(chromedp.CSS(`button[value="deny"]`)))
	back := c.waitLocation(st.client.RedirectURIs[0])
	c.shot("03-denied-back-at-tpp")
	p := redirectParams(t, back)
	if p.Get("error") != "access_denied" || p.Get("code") != "" || p.Get("state") != state {
		t.Errorf("redirect to the TPP = %s, want error=access_denied with state", back)
	}
	if got := st.consent(consentID).Status; got != ob.ConsentRejected {
		t.Errorf("consent status = %s, want Rejected", got)
	}
}

func TestBrowserDashboardRevoke(t *testing.T) {
	c := newChrome(t)
	st := newStack(t)
	consentID := st.createConsent()
	u, _ := st.authorizeURL(consentID)
	c.run("open the authorize URL", chromedp.Navigate(u))
	c.signIn(st, "0")
	c.run("consent page", chromedp.WaitVisible(chromedp.CSS("fieldset")),
		chromedp.Click(chromedp.CSS(`input[name="account"][value="`+st.accounts[0]+`"]`)),
		chromedp.Click(chromedp.CSS(`input[name="account"][value="`+st.accounts[2]+`"]`)))
	c.submit("allow", chromedp.Click(chromedp.CSS(`button[value="allow"]`)))
	p := redirectParams(t, c.waitLocation(st.client.RedirectURIs[0]))
	token := st.exchange(p.Get("code"))
	if status, ids := st.accountIDs(token); status != http.StatusOK || len(ids) != 2 {
		t.Fatalf("GET /accounts = %d %v", status, ids)
	}

	// The code used above is spent; sign in to the dashboard with the next.
	st.clock.Advance(30 * time.Second)
	c.run("open the dashboard", chromedp.Navigate(st.public.URL+"/consents"))
	c.signIn(st, "1")
	c.run("dashboard", chromedp.WaitVisible(chromedp.CSS("button.danger")))
	c.shot("12-dashboard")
	if txt := c.text(); !strings.Contains(txt, "Budget Buddy") || !strings.Contains(txt, "Active") {
		t.Errorf("dashboard text:\n%s", txt)
	}
	c.submit("revoke", chromedp.Click(chromedp.CSS("button.danger")))
	c.run("dashboard after revoking", chromedp.WaitVisible(chromedp.CSS(".notice")))
	c.shot("13-dashboard-revoked")
	if txt := c.text(); !strings.Contains(txt, "You revoked access on") {
		t.Errorf("dashboard after revoking:\n%s", txt)
	}
	if status, _ := st.accountIDs(token); status != http.StatusUnauthorized {
		t.Errorf("TPP's next call after revocation = %d, want 401", status)
	}
}

func TestBrowserLoginLock(t *testing.T) {
	c := newChrome(t)
	st := newStack(t)
	u, _ := st.authorizeURL(st.createConsent())
	c.run("open the authorize URL", chromedp.Navigate(u), chromedp.WaitVisible(chromedp.CSS("#username")))
	for i := range 5 {
		status := c.submit("wrong password",
			chromedp.SetValue(chromedp.CSS("#username"), st.login.Username),
			chromedp.SendKeys(chromedp.CSS("#password"), "not-the-password"),
			chromedp.Click(chromedp.CSS(`button[type="submit"]`)))
		if want := int64(http.StatusUnauthorized); i == 4 {
			if status != http.StatusTooManyRequests {
				t.Errorf("fifth wrong password: status %d, want 429", status)
			}
		} else if status != want {
			t.Errorf("wrong password %d: status %d, want %d", i+1, status, want)
		}
		if i == 0 {
			c.shot("01-wrong-password")
		}
	}
	status := c.submit("right password while locked",
		chromedp.SetValue(chromedp.CSS("#username"), st.login.Username),
		chromedp.SendKeys(chromedp.CSS("#password"), st.login.Password),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)))
	if status != http.StatusTooManyRequests {
		t.Errorf("right password while locked: status %d, want 429", status)
	}
	c.shot("02-locked")
	if txt := c.text(); !strings.Contains(txt, "locked") {
		t.Errorf("after 5 failures the right password gives:\n%s", txt)
	}
	if strings.HasSuffix(c.location(), "/login/totp") {
		t.Error("the locked login went on to the second factor")
	}
}

// payableAccount returns one of the customer's accounts the service offers
// for consent id that holds at least minor units of GBP.
func (st *stack) payableAccount(svc *payments.Service, id string, minor int64) string {
	st.t.Helper()
	ctx := context.Background()
	choices, err := svc.DebtorChoices(ctx, st.consent(id), st.login.CustomerID)
	if err != nil {
		st.t.Fatalf("DebtorChoices: %v", err)
	}
	for _, a := range choices {
		la, err := st.store.(payments.Store).LedgerAccount(ctx, a.ID)
		if err != nil {
			st.t.Fatalf("LedgerAccount(%s): %v", a.ID, err)
		}
		if la.Balance.Currency == "GBP" && la.Balance.Minor >= minor {
			return a.ID
		}
	}
	st.t.Fatalf("the customer has no GBP account with %d pence among %d choices", minor, len(choices))
	return ""
}

// payTo is the payment the browser tests approve: £12.34 to a payee at
// another bank.
func payTo() payments.Initiation {
	in := domesticInitiation(nil)
	in.InstructedAmount = payments.Amount{Amount: "12.34", Currency: "GBP"}
	return in
}

func TestBrowserPaymentAllow(t *testing.T) {
	c := newChrome(t)
	var svc *payments.Service
	rc := risk.DefaultConfig()
	rc.Weights[risk.RuleUnusualHour] = 0 // the test runs at any hour
	st := newStack(t, withPaymentService(t, rc, &svc))
	consentID := st.createPaymentConsent(ob.KindDomesticPayment, payTo())
	debtor := st.payableAccount(svc, consentID, 1234)
	u, state := st.authorizeURLScope(consentID, oauth.ScopePayments)
	c.run("open the authorize URL", chromedp.Navigate(u))
	c.signIn(st, "0")
	c.run("payment page", chromedp.WaitVisible(chromedp.CSS("fieldset")))
	c.shot("03-payment")
	txt := c.text()
	for _, want := range []string{"Budget Buddy", "£12.34", "Harbour Lane Bakery", "•••• 4321", "INV-0042", "Pay from"} {
		if !strings.Contains(txt, want) {
			t.Errorf("payment page text lacks %q:\n%s", want, txt)
		}
	}
	c.run("choose "+debtor, chromedp.Click(chromedp.CSS(`input[name="account"][value="`+debtor+`"]`)))
	c.shot("04-payment-chosen")
	c.submit("allow", chromedp.Click(chromedp.CSS(`button[value="allow"]`)))
	back := c.waitLocation(st.client.RedirectURIs[0])
	c.shot("05-back-at-tpp")
	p := redirectParams(t, back)
	if p.Get("code") == "" || p.Get("state") != state {
		t.Fatalf("redirect to the TPP = %s, want a code and state %s", back, state)
	}
	got := st.consent(consentID)
	if got.Status != ob.ConsentAuthorised || got.CustomerID != st.login.CustomerID || !slices.Equal(got.AccountIDs, []string{debtor}) {
		t.Errorf("consent = %s for %q with %v, want Authorised for %s with [%s]", got.Status, got.CustomerID,
			got.AccountIDs, st.login.CustomerID, debtor)
	}
	if pl, err := payments.DecodeConsentPayload(got); err != nil || pl.Assessment == nil {
		t.Errorf("consent payload after authorisation: %+v, %v; want the risk assessment", pl, err)
	}
	ok, _, err := svc.ConsentFunds(context.Background(), st.client.ID, consentID, ob.KindDomesticPayment, consentID)
	if err != nil || !ok {
		t.Errorf("ConsentFunds after authorisation = %v, %v; want funds available", ok, err)
	}
}

func TestBrowserPaymentStepUp(t *testing.T) {
	c := newChrome(t)
	var svc *payments.Service
	rc := risk.DefaultConfig()
	// A new payee alone (0.3) asks the customer for a new code.
	rc.MediumAt, rc.MediumAction = 0.2, risk.StepUp
	st := newStack(t, withPaymentService(t, rc, &svc))
	consentID := st.createPaymentConsent(ob.KindDomesticPayment, payTo())
	debtor := st.payableAccount(svc, consentID, 1234)
	u, _ := st.authorizeURLScope(consentID, oauth.ScopePayments)
	c.run("open the authorize URL", chromedp.Navigate(u))
	c.signIn(st, "0")
	c.run("payment page", chromedp.WaitVisible(chromedp.CSS("fieldset")),
		chromedp.Click(chromedp.CSS(`input[name="account"][value="`+debtor+`"]`)))
	c.submit("allow", chromedp.Click(chromedp.CSS(`button[value="allow"]`)))
	c.run("step-up field", chromedp.WaitVisible(chromedp.CSS("#code")))
	c.shot("04-step-up")
	if txt := c.text(); !strings.Contains(txt, "For your security, confirm this payment with a new code from your authenticator app") {
		t.Errorf("step-up page text:\n%s", txt)
	}
	if got := st.consent(consentID).Status; got != ob.ConsentAwaitingAuthorisation {
		t.Fatalf("consent = %s before the step-up, want AwaitingAuthorisation", got)
	}
	// The login's code is spent: a new one is needed.
	if status := c.submit("the login's code again",
		chromedp.SendKeys(chromedp.CSS("#code"), st.totpCode()),
		chromedp.Click(chromedp.CSS(`button[value="allow"]`))); status != http.StatusUnauthorized {
		t.Errorf("step-up with the spent code: status %d, want 401", status)
	}
	c.shot("05-step-up-spent-code")
	st.clock.Advance(30 * time.Second)
	c.submit("a new code",
		chromedp.SendKeys(chromedp.CSS("#code"), st.totpCode()),
		chromedp.Click(chromedp.CSS(`button[value="allow"]`)))
	back := c.waitLocation(st.client.RedirectURIs[0])
	c.shot("06-back-at-tpp")
	if p := redirectParams(t, back); p.Get("code") == "" {
		t.Fatalf("redirect to the TPP = %s, want a code", back)
	}
	got := st.consent(consentID)
	if got.Status != ob.ConsentAuthorised || !slices.Equal(got.AccountIDs, []string{debtor}) {
		t.Errorf("consent = %s with %v, want Authorised with [%s]", got.Status, got.AccountIDs, debtor)
	}
	if pl, err := payments.DecodeConsentPayload(got); err != nil || !pl.SteppedUp {
		t.Errorf("consent payload: SteppedUp = %v (%v), want true", pl.SteppedUp, err)
	}
}

func TestBrowserFundsConfirmation(t *testing.T) {
	c := newChrome(t)
	var svc *payments.Service
	st := newStack(t, withPaymentService(t, risk.DefaultConfig(), &svc))
	acc := st.accounts[0]
	consentID := st.createFundsConsent(*st.debtorOf(acc))
	u, _ := st.authorizeURLScope(consentID, oauth.ScopeFundsConfirmations)
	c.run("open the authorize URL", chromedp.Navigate(u))
	c.signIn(st, "0")
	c.run("funds page", chromedp.WaitVisible(chromedp.CSS("fieldset")))
	c.shot("03-funds")
	if txt := c.text(); !strings.Contains(txt, "does not see your balance") {
		t.Errorf("funds page text:\n%s", txt)
	}
	// The only account is preselected: Allow at once.
	c.submit("allow", chromedp.Click(chromedp.CSS(`button[value="allow"]`)))
	c.waitLocation(st.client.RedirectURIs[0])
	if got := st.consent(consentID); got.Status != ob.ConsentAuthorised || !slices.Equal(got.AccountIDs, []string{acc}) {
		t.Errorf("consent = %s with %v, want Authorised with [%s]", got.Status, got.AccountIDs, acc)
	}

	// The dashboard revokes it.
	st.clock.Advance(30 * time.Second)
	c.run("open the dashboard", chromedp.Navigate(st.public.URL+"/consents"))
	c.signIn(st, "1")
	c.run("dashboard", chromedp.WaitVisible(chromedp.CSS("button.danger")))
	c.shot("12-dashboard-funds")
	c.submit("revoke", chromedp.Click(chromedp.CSS("button.danger")))
	c.run("dashboard after revoking", chromedp.WaitVisible(chromedp.CSS(".notice")))
	c.shot("13-dashboard-funds-revoked")
	if got := st.consent(consentID).Status; got != ob.ConsentRevoked {
		t.Errorf("funds consent after revoking = %s, want Revoked", got)
	}
}
