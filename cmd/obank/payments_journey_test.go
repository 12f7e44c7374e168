package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/obank/obank/client"
	"github.com/obank/obank/demo"
	"github.com/obank/obank/internal/totp"
	"github.com/obank/obank/jws"
	"github.com/obank/obank/sqlite"
)

// TestServePaymentJourney is a domestic payment end to end on the real
// server, with a cookie-keeping HTTP client standing in for the browser: the
// TPP creates a signed payment consent, the customer signs in with password
// and TOTP and approves it for the account they choose on the payment page,
// the TPP exchanges the code, submits the signed order, and reads its
// status and payment details. Every PIS answer carries the bank's
// signature, which verifies against the bank's published JWKS; the money
// moves once, between the customer's two accounts.
func TestServePaymentJourney(t *testing.T) {
	dir := t.TempDir()
	srv := startServe(t, nil, "--data-dir", dir, "--demo-customers", "2", "--scheduler-interval", "0")
	_, logins, err := demo.Generate(demo.Config{Customers: 2})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	store, err := sqlite.OpenDir(ctx, dir, sqlite.Options{SkipMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	customerID, debtor, creditor := ownAccounts(t, store)
	cust, err := store.Customer(ctx, customerID)
	if err != nil {
		t.Fatal(err)
	}
	var who demo.Login
	for _, l := range logins {
		if l.Username == cust.Username {
			who = l
		}
	}
	if who.Username == "" {
		t.Fatalf("no demo login for %s", cust.Username)
	}
	balance := func(id string) int64 {
		t.Helper()
		a, err := store.LedgerAccount(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return a.Balance.Minor
	}

	// The bank's response signatures verify against its published keys.
	resp, jwksBody := get(t, srv.url+"/jwks", "")
	if resp.StatusCode != 200 {
		t.Fatalf("GET /jwks = %d", resp.StatusCode)
	}
	bankKeys, err := jwk.Parse(jwksBody)
	if err != nil {
		t.Fatal(err)
	}
	tpp := registerTPP(t, dir, srv.url, srv.mtlsURL, "payments")
	// pis sends a PIS request and checks the bank's signature on the answer.
	pis := func(method, path, bearer string, post *signedPost) (int, map[string]any) {
		t.Helper()
		var (
			r    *http.Response
			body []byte
			err  error
		)
		if post != nil {
			r, body, err = tpp.send(tpp.http, srv.mtlsURL, bearer, *post)
		} else {
			r, body, err = tpp.do(tpp.http, method, srv.mtlsURL+path, bearer, "", "")
		}
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		sig := r.Header.Get(jws.Header)
		if sig == "" {
			t.Errorf("%s %s -> %d: no %s", method, path, r.StatusCode, jws.Header)
		} else if _, err := jws.VerifyDetached(sig, body, bankKeys, jws.Expect{Issuers: []string{"obank"}}, time.Now()); err != nil {
			t.Errorf("%s %s -> %d: the bank's signature does not verify: %v", method, path, r.StatusCode, err)
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatalf("%s %s -> %d: %v: %s", method, path, r.StatusCode, err, body)
		}
		return r.StatusCode, m
	}
	data := func(m map[string]any) map[string]any { d, _ := m["Data"].(map[string]any); return d }

	// The TPP asks for the payment.
	in := domesticInitiation("journey-1", "12.34", sortCodeNumber(creditor))
	consentPost := tpp.newPost(t, domesticConsentPath,
		mustMarshal(t, map[string]any{"Data": map[string]any{"Initiation": in}, "Risk": paymentRisk}), "journey-consent")
	status, m := pis("POST", domesticConsentPath, tpp.cc, &consentPost)
	consentID, _ := data(m)["ConsentId"].(string)
	if status != 201 || consentID == "" || data(m)["Status"] != "AwaitingAuthorisation" {
		t.Fatalf("create consent = %d: %v", status, m)
	}
	authz, err := client.HybridAuthorizeURL(tpp.bundle, client.Authorization{Issuer: srv.url, ClientID: tpp.clientID,
		IntentID: consentID, Scope: "openid payments"})
	if err != nil {
		t.Fatal(err)
	}

	// The customer's browser: signs in and approves on the payment page.
	browser := newTestBrowser(t)
	page, csrf := browser.page, browser.csrf
	html := browser.signIn(srv.url, authz.URL, who)
	if !strings.Contains(html, "12.34") {
		t.Errorf("the payment page does not show the amount:\n%s", html)
	}
	offered := false
	for _, b := range accountBox.FindAllStringSubmatch(html, -1) {
		offered = offered || b[1] == debtor.ID
	}
	if !offered {
		t.Fatalf("the payment page does not offer account %s:\n%s", debtor.ID, html)
	}
	form := url.Values{"csrf": {csrf(html)}, "account": {debtor.ID}, "decision": {"allow"}}
	html = page("POST", srv.url+"/consent", form)
	if browser.landed == nil && strings.Contains(html, `name="stepup"`) {
		// Fraud screening asked to confirm with a new code: the next
		// period's, as the one used to sign in may not be used again.
		form.Set("csrf", csrf(html))
		form.Set("stepup", "1")
		key, err := totp.DecodeSecret(who.TOTPSecret)
		if err != nil {
			t.Fatal(err)
		}
		form.Set("code", totp.At(key, time.Now().Add(30*time.Second)))
		html = page("POST", srv.url+"/consent", form)
	}
	if browser.landed == nil {
		t.Fatalf("the browser never reached the TPP's redirect URI:\n%s", html)
	}
	frag, _ := url.ParseQuery(browser.landed.Fragment)
	if frag.Get("code") == "" || frag.Get("id_token") == "" || frag.Get("state") != authz.State {
		t.Fatalf("redirect to the TPP = %s", browser.landed)
	}
	if status, m := pis("GET", domesticConsentPath+"/"+consentID, tpp.cc, nil); status != 200 || data(m)["Status"] != "Authorised" {
		t.Errorf("consent after approval = %d: %v", status, m)
	}

	// The TPP exchanges the code and places the order.
	status, body := tpp.call(t, "POST", srv.mtlsURL+"/token", "", "application/x-www-form-urlencoded",
		url.Values{"grant_type": {"authorization_code"}, "code": {frag.Get("code")}, "client_id": {tpp.clientID},
			"redirect_uri": {authz.RedirectURI}, "code_verifier": {authz.CodeVerifier}}.Encode())
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if status != 200 || json.Unmarshal(body, &tok) != nil || tok.AccessToken == "" {
		t.Fatalf("code exchange = %d: %s", status, body)
	}
	debtorBefore, creditorBefore := balance(debtor.ID), balance(creditor.ID)
	order := tpp.newPost(t, domesticPaymentPath, mustMarshal(t, map[string]any{
		"Data": map[string]any{"ConsentId": consentID, "Initiation": in}, "Risk": paymentRisk}), "journey-order")
	status, m = pis("POST", domesticPaymentPath, tok.AccessToken, &order)
	paymentID, _ := data(m)["DomesticPaymentId"].(string)
	if status != 201 || paymentID == "" || data(m)["ConsentId"] != consentID {
		t.Fatalf("POST domestic-payments = %d: %v", status, m)
	}
	if st := data(m)["Status"]; st != "AcceptedSettlementCompleted" {
		t.Fatalf("payment status = %v, want AcceptedSettlementCompleted: %v", st, m)
	}
	if got := balance(debtor.ID); got != debtorBefore-1234 {
		t.Errorf("debtor balance %d, want %d", got, debtorBefore-1234)
	}
	if got := balance(creditor.ID); got != creditorBefore+1234 {
		t.Errorf("creditor balance %d, want %d", got, creditorBefore+1234)
	}

	// Its status and details, and the consent consumed.
	status, m = pis("GET", domesticPaymentPath+"/"+paymentID, tpp.cc, nil)
	if status != 200 || data(m)["DomesticPaymentId"] != paymentID || data(m)["Status"] != "AcceptedSettlementCompleted" {
		t.Errorf("GET payment = %d: %v", status, m)
	}
	status, m = pis("GET", domesticPaymentPath+"/"+paymentID+"/payment-details", tpp.cc, nil)
	ps, _ := data(m)["PaymentStatus"].([]any)
	if status != 200 || len(ps) != 1 || ps[0].(map[string]any)["Status"] != "AcceptedSettlementCompleted" {
		t.Errorf("payment-details = %d: %v", status, m)
	}
	if status, m := pis("GET", domesticConsentPath+"/"+consentID, tpp.cc, nil); status != 200 || data(m)["Status"] != "Consumed" {
		t.Errorf("consent after the order = %d: %v", status, m)
	}
	// The same order again is the same payment; nothing moves twice.
	status, m = pis("POST", domesticPaymentPath, tok.AccessToken, &order)
	if status != 201 || data(m)["DomesticPaymentId"] != paymentID {
		t.Errorf("retried order = %d: %v", status, m)
	}
	if got := balance(debtor.ID); got != debtorBefore-1234 {
		t.Errorf("debtor balance after the retry %d, want %d", got, debtorBefore-1234)
	}
	if report, err := store.Verify(ctx); err != nil || !report.OK() {
		t.Errorf("ledger verify: %v: %+v", err, report.Mismatches)
	}
}
