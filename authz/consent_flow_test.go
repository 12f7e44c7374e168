package authz

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/obank/obank/httpapi"
	"github.com/obank/obank/internal/pki"
	"github.com/obank/obank/oauth"
	"github.com/obank/obank/ob"
	"github.com/obank/obank/obtest"
)

// consentJourney stands in for the customer's pages: the customer (Alice)
// approves and picks accounts. Like the real journey, it authorises the
// consent itself before ending the session with Finish.
type consentJourney struct {
	store    Store
	now      func() time.Time
	accounts []string
}

func (j consentJourney) Begin(w http.ResponseWriter, r *http.Request, s oauth.AuthSession, f Finisher) error {
	now := j.now()
	_, err := j.store.UpdateConsent(r.Context(), s.Request.IntentID, now, func(c *ob.Consent) error {
		return c.Authorise(obtest.Alice, j.accounts, now)
	})
	if err != nil {
		return f.Finish(w, r, s.ID, oauth.Outcome{Approved: false, Reason: "the consent could not be authorised"})
	}
	return f.Finish(w, r, s.ID, oauth.Outcome{Approved: true, CustomerID: obtest.Alice, ACR: oauth.ACRSCA, AuthTime: now})
}

// consentFlow is a harness plus the resource server, both on one store
// holding the fixture bank.
type consentFlow struct {
	*harness
	api *httptest.Server
	tpp *testTPP
}

func newConsentFlow(t *testing.T, accounts []string) *consentFlow {
	t.Helper()
	var h *harness
	h = newHarness(t, func(c *Config) {
		c.Journey = consentJourney{store: c.Store, now: func() time.Time { return h.Clock.Now() }, accounts: accounts}
	})
	bank, ok := h.Store.(ob.Store)
	if !ok {
		t.Fatal("the harness store is not an ob.Store")
	}
	obtest.MustImport(t, bank, obtest.Fixture())
	srv := httpapi.NewServer(httpapi.Config{Store: bank, Now: h.Clock.Now, Logger: testLogger(t)})
	api := httptest.NewUnstartedServer(srv.Handler())
	api.TLS = pki.ServerTLSConfig(h.Dir.ServerCertificate(), h.Dir.CAPool(), false)
	api.StartTLS()
	t.Cleanup(func() { api.Close(); srv.Close() })
	return &consentFlow{harness: h, api: api, tpp: h.newTPP(tppOptions{Roles: []string{oauth.RoleAISP}})}
}

// call sends a resource-API request as the TPP (its certificate) with a
// bearer token.
func (f *consentFlow) call(method, path, bearer string, body any) httpResult {
	f.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			f.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, f.api.URL+"/open-banking/v3.1/aisp"+path, rd)
	if err != nil {
		f.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := f.tpp.HTTP.Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v", method, path, err)
	}
	return readResult(f.t, resp)
}

// createConsent creates an account-access consent with a
// client-credentials token and returns its id.
func (f *consentFlow) createConsent(cc string) string {
	f.t.Helper()
	r := f.call(http.MethodPost, "/account-access-consents", cc, map[string]any{
		"Data": map[string]any{
			"Permissions":        []string{"ReadAccountsDetail", "ReadBalances"},
			"ExpirationDateTime": f.Clock.Now().Add(24 * time.Hour).Format(time.RFC3339),
		},
		"Risk": map[string]any{},
	})
	if r.Status != http.StatusCreated {
		f.t.Fatalf("create consent: %d %s", r.Status, r.Body)
	}
	data, _ := r.JSON["Data"].(map[string]any)
	id, _ := data["ConsentId"].(string)
	return id
}

// accountIDs lists the account ids a token reads.
func (f *consentFlow) accountIDs(bearer string) []string {
	f.t.Helper()
	r := f.call(http.MethodGet, "/accounts", bearer, nil)
	if r.Status != http.StatusOK {
		f.t.Fatalf("GET /accounts: %d %s", r.Status, r.Body)
	}
	data, _ := r.JSON["Data"].(map[string]any)
	accs, _ := data["Account"].([]any)
	var ids []string
	for _, a := range accs {
		m, _ := a.(map[string]any)
		id, _ := m["AccountId"].(string)
		ids = append(ids, id)
	}
	return ids
}

// TestConsentFlow is the TPP's whole journey: create a consent with a
// client-credentials token, send the customer to authorize (the journey
// authorises the consent for the accounts the customer picked), exchange
// the code, and read exactly those accounts.
func TestConsentFlow(t *testing.T) {
	chosen := []string{obtest.Acc2}
	f := newConsentFlow(t, chosen)
	cc := f.clientCredentials(f.tpp, "accounts").str("access_token")
	id := f.createConsent(cc)

	// Before authorisation the CC token reads no accounts.
	if r := f.call(http.MethodGet, "/accounts", cc, nil); r.Status != http.StatusForbidden {
		t.Errorf("GET /accounts with the CC token: %d, want 403", r.Status)
	}

	verifier := "consent-flow-verifier-0123456789-0123456789-abc"
	uri := f.mustPush(f.tpp, f.parForm(f.tpp, id, verifier))
	rr := mustRedirect(t, f.authorize(pushedQuery(f.tpp, uri)))
	code := rr.Query.Get("code")
	if code == "" {
		t.Fatalf("authorize redirect without a code: %+v", rr)
	}
	got := f.call(http.MethodGet, "/account-access-consents/"+id, cc, nil)
	if data, _ := got.JSON["Data"].(map[string]any); data["Status"] != "Authorised" {
		t.Errorf("consent after the journey: %s", got.Body)
	}

	tok := f.token(f.tpp, url.Values{
		"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {f.tpp.Client.RedirectURIs[0]}, "code_verifier": {verifier},
	})
	if tok.Status != http.StatusOK {
		t.Fatalf("exchange: %d %s", tok.Status, tok.Body)
	}
	access := tok.str("access_token")
	if ids := f.accountIDs(access); !slices.Equal(ids, chosen) {
		t.Errorf("accounts read = %v, want exactly %v", ids, chosen)
	}
	// An account the customer did not pick is out of reach.
	if r := f.call(http.MethodGet, "/accounts/"+obtest.Acc1, access, nil); r.Status != http.StatusForbidden {
		t.Errorf("GET an unchosen account: %d, want 403", r.Status)
	}

	// Authorization-code tokens do not manage consents.
	if r := f.call(http.MethodGet, "/account-access-consents/"+id, access, nil); r.Status != http.StatusForbidden {
		t.Errorf("GET consent with the PSU token: %d, want 403", r.Status)
	}
	// The TPP deletes the consent: the PSU token dies at once, and the
	// consent cannot be authorised again.
	if r := f.call(http.MethodDelete, "/account-access-consents/"+id, cc, nil); r.Status != http.StatusNoContent {
		t.Fatalf("DELETE consent: %d %s", r.Status, r.Body)
	}
	if r := f.call(http.MethodGet, "/accounts", access, nil); r.Status != http.StatusUnauthorized {
		t.Errorf("GET /accounts after DELETE: %d, want 401", r.Status)
	}
	if r := f.push(f.tpp, f.parForm(f.tpp, id, verifier)); r.Status != http.StatusBadRequest || r.str("error") != "invalid_request" {
		t.Errorf("PAR for a deleted consent: %d %s", r.Status, r.Body)
	}
}

// TestCheckIntent: which consents the authorize endpoint (through PAR,
// which runs the same check) accepts as openbanking_intent_id.
func TestCheckIntent(t *testing.T) {
	f := newConsentFlow(t, []string{obtest.Acc1})
	other := f.newTPP(tppOptions{Roles: []string{oauth.RoleAISP}})
	ctx := context.Background()
	now := f.Clock.Now()

	create := func(owner *testTPP, edit func(c *ob.Consent)) string {
		t.Helper()
		c := obtest.NewConsent("aac-"+randomToken()[:16], owner.Client.ID, now)
		if edit != nil {
			edit(&c)
		}
		if err := f.Store.CreateConsent(ctx, c); err != nil {
			t.Fatal(err)
		}
		return c.ID
	}
	update := func(id string, change func(c *ob.Consent) error) {
		t.Helper()
		if _, err := f.Store.UpdateConsent(ctx, id, now, change); err != nil {
			t.Fatal(err)
		}
	}
	authorise := func(c *ob.Consent) error { return c.Authorise(obtest.Alice, []string{obtest.Acc1}, now) }

	awaiting := create(f.tpp, nil)
	authorised := create(f.tpp, nil)
	update(authorised, authorise)
	revokedAtBank := create(f.tpp, nil)
	update(revokedAtBank, authorise)
	if err := f.Store.RevokeGrant(ctx, revokedAtBank, now); err != nil {
		t.Fatal(err)
	}
	rejected := create(f.tpp, nil)
	update(rejected, func(c *ob.Consent) error { return c.Reject(now) })
	deleted := create(f.tpp, nil)
	update(deleted, func(c *ob.Consent) error { c.DeletedAt = &now; return nil })
	expired := create(f.tpp, func(c *ob.Consent) { c.ExpirationDateTime = &now })
	payment := create(f.tpp, func(c *ob.Consent) { c.Kind = ob.KindDomesticPayment })
	othersConsent := create(other, nil)

	tests := []struct {
		name   string
		intent string
		ok     bool
	}{
		{"awaiting authorisation", awaiting, true},
		{"authorised (re-authentication)", authorised, true},
		{"authorised but revoked at the bank", revokedAtBank, false},
		{"rejected", rejected, false},
		{"deleted", deleted, false},
		{"expired, not yet swept", expired, false},
		{"consent of another kind than the scope", payment, false},
		{"another TPP's consent", othersConsent, false},
		{"unknown", "aac-unknown", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := f.push(f.tpp, f.parForm(f.tpp, tc.intent, "check-intent-verifier-0123456789-0123456789"))
			if tc.ok && r.Status != http.StatusCreated {
				t.Errorf("PAR: %d %s, want 201", r.Status, r.Body)
			}
			if !tc.ok && (r.Status != http.StatusBadRequest || r.str("error") != "invalid_request") {
				t.Errorf("PAR: %d %s, want 400 invalid_request", r.Status, r.Body)
			}
		})
	}
}
