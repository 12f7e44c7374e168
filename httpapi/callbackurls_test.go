package httpapi_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/obank/obank/api/obie"
	"github.com/obank/obank/events"
	"github.com/obank/obank/httpapi"
	"github.com/obank/obank/internal/spectest"
	"github.com/obank/obank/ob"
	"github.com/obank/obank/obtest"
)

// cbEnv is a server with the events and callback-urls APIs on a real
// store; callback URLs may point at loopback (AllowPrivate) so a local TLS
// server can play the TPP.
type cbEnv struct {
	*env
	cb     *spectest.Validator
	ev     *spectest.Validator
	store  events.Store
	signer setSigner
}

func newCBEnv(t *testing.T, store ob.Store) *cbEnv {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	es := store.(events.Store)
	svc := &events.Service{Store: es, Signer: setSigner{key}, Policy: events.CallbackPolicy{AllowPrivate: true},
		Now: func() time.Time { return now }}
	e := newEnvWithStore(t, store, func(c *httpapi.Config) { c.Events = svc })
	return &cbEnv{env: e, cb: spectest.MustNew(t, obie.CallbackURLs, e.ts.URL),
		ev: spectest.MustNew(t, obie.Events, e.ts.URL), store: es, signer: setSigner{key}}
}

// send calls the events or callback-urls API and validates the answer
// against the right spec. POST and PUT carry an (unverified) x-jws-signature.
func (e *cbEnv) send(method, path, token, body string) (int, []byte) {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.ts.URL+"/open-banking/v3.1"+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		req.Header.Set("x-jws-signature", "eyJhbGciOiJQUzI1NiJ9..c2ln")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	req.Body = nil
	if strings.HasPrefix(path, "/callback-urls") {
		e.cb.Check(e.t, req, resp.StatusCode, resp.Header, b)
	} else {
		e.ev.Check(e.t, req, resp.StatusCode, resp.Header, b)
	}
	return resp.StatusCode, b
}

type cbResponse struct {
	Data struct {
		CallbackUrlId string
		Url           string
		Version       string
	}
	Links struct{ Self string }
}

func TestCallbackURLsCRUD(t *testing.T) {
	e := newCBEnv(t, openSQLite(t))
	tokA := e.ccToken("tpp-a", "accounts")
	tokB := e.ccToken("tpp-b", "fundsconfirmations")
	url1 := "https://8.8.8.8/open-banking/v3.1/event-notifications"
	url2 := "https://8.8.4.4/tpp/3.1/event-notifications"

	if status, body := e.send("GET", "/callback-urls", tokA, ""); status != http.StatusOK ||
		!strings.Contains(string(body), `"CallbackUrl":[]`) {
		t.Errorf("GET before POST = %d %s, want an empty list", status, body)
	}
	status, body := e.send("POST", "/callback-urls", tokA, `{"Data":{"Url":"`+url1+`","Version":"3.1"}}`)
	if status != http.StatusCreated {
		t.Fatalf("POST = %d %s, want 201", status, body)
	}
	var created cbResponse
	if err := json.Unmarshal(body, &created); err != nil {
		t.Fatal(err)
	}
	id := created.Data.CallbackUrlId
	if id == "" || created.Data.Url != url1 || created.Data.Version != "3.1" ||
		created.Links.Self != publicURL+"/open-banking/v3.1/callback-urls/"+id {
		t.Errorf("created = %+v", created)
	}
	// One per TPP; the legacy YAML has no 409, so it is a 400.
	if status, body := e.send("POST", "/callback-urls", tokA, `{"Data":{"Url":"`+url2+`","Version":"3.1"}}`); status != http.StatusBadRequest ||
		errorCode(t, body) != ob.CodeRulesResourceAlreadyExists {
		t.Errorf("second POST = %d %s, want 400 %s", status, body, ob.CodeRulesResourceAlreadyExists)
	}
	if status, body := e.send("GET", "/callback-urls", tokA, ""); status != http.StatusOK || !strings.Contains(string(body), id) {
		t.Errorf("GET = %d %s", status, body)
	}
	// The events API neither shows nor changes it.
	if status, body := e.send("GET", "/event-subscriptions", tokA, ""); status != http.StatusOK ||
		!strings.Contains(string(body), `"EventSubscription":[]`) {
		t.Errorf("GET /event-subscriptions = %d %s, want an empty list", status, body)
	}
	if status, body := e.send("PUT", "/event-subscriptions/"+id, tokA,
		`{"Data":{"EventSubscriptionId":"`+id+`","Version":"3.1"}}`); status != http.StatusBadRequest ||
		errorCode(t, body) != ob.CodeResourceNotFound {
		t.Errorf("PUT /event-subscriptions/{callback} = %d %s, want 400 NotFound", status, body)
	}
	if status, _ := e.send("DELETE", "/event-subscriptions/"+id, tokA, ""); status != http.StatusBadRequest {
		t.Errorf("DELETE /event-subscriptions/{callback} = %d, want 400", status)
	}
	// Another TPP sees none of it and cannot change it.
	if status, body := e.send("GET", "/callback-urls", tokB, ""); status != http.StatusOK || strings.Contains(string(body), id) {
		t.Errorf("GET by another TPP = %d %s", status, body)
	}
	put := `{"Data":{"Url":"` + url2 + `","Version":"3.1.11"}}`
	if status, _ := e.send("PUT", "/callback-urls/"+id, tokB, put); status != http.StatusForbidden {
		t.Errorf("PUT by another TPP = %d, want 403", status)
	}
	if status, _ := e.send("DELETE", "/callback-urls/"+id, tokB, ""); status != http.StatusForbidden {
		t.Errorf("DELETE by another TPP = %d, want 403", status)
	}
	if status, body := e.send("PUT", "/callback-urls/nope", tokA, put); status != http.StatusBadRequest ||
		errorCode(t, body) != ob.CodeResourceNotFound {
		t.Errorf("PUT unknown = %d %s, want 400 NotFound", status, body)
	}
	status, body = e.send("PUT", "/callback-urls/"+id, tokA, put)
	var updated cbResponse
	_ = json.Unmarshal(body, &updated)
	if status != http.StatusOK || updated.Data.CallbackUrlId != id || updated.Data.Url != url2 || updated.Data.Version != "3.1.11" {
		t.Errorf("PUT = %d %s", status, body)
	}
	if status, _ := e.send("DELETE", "/callback-urls/"+id, tokA, ""); status != http.StatusNoContent {
		t.Errorf("DELETE = %d, want 204", status)
	}
	if status, body := e.send("GET", "/callback-urls", tokA, ""); status != http.StatusOK || strings.Contains(string(body), id) {
		t.Errorf("GET after DELETE = %d %s", status, body)
	}
	if status, body := e.send("DELETE", "/callback-urls/"+id, tokA, ""); status != http.StatusBadRequest ||
		errorCode(t, body) != ob.CodeResourceNotFound {
		t.Errorf("second DELETE = %d %s, want 400 NotFound", status, body)
	}
}

func TestCallbackURLsValidationAndAuth(t *testing.T) {
	e := newEventsEnv(t) // the default policy: public addresses only
	cb := spectest.MustNew(t, obie.CallbackURLs, e.ts.URL)
	send := func(method, path, token, body string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, e.ts.URL+"/open-banking/v3.1"+path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json; charset=utf-8")
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := e.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		req.Body = nil
		cb.Check(t, req, resp.StatusCode, resp.Header, b)
		return resp.StatusCode, b
	}
	tok := e.ccToken("tpp-a", "payments")
	for _, tc := range []struct{ body, code string }{
		{`{}`, ob.CodeFieldMissing},
		{`{"Data":{"Version":"3.1"}}`, ob.CodeFieldMissing},
		{`{"Data":{"Url":"https://8.8.8.8/v3.1/event-notifications"}}`, ob.CodeFieldMissing},
		{`{"Data":{"Url":"https://8.8.8.8/v3.1/event-notifications","Version":"3.1.11.12.13"}}`, ob.CodeFieldInvalid},
		{`{"Data":{"Url":"http://8.8.8.8/v3.1/event-notifications","Version":"3.1"}}`, ob.CodeFieldInvalid},
		{`{"Data":{"Url":"https://8.8.8.8/callback","Version":"3.1"}}`, ob.CodeFieldInvalid},
		{`{"Data":{"Url":"https://127.0.0.1/v3.1/event-notifications","Version":"3.1"}}`, ob.CodeFieldInvalid},
		{`{"Data":{"Url":"https://169.254.169.254/v3.1/event-notifications","Version":"3.1"}}`, ob.CodeFieldInvalid},
		{`{"Data":{"Url":"https://[::1]/v3.1/event-notifications","Version":"3.1"}}`, ob.CodeFieldInvalid},
		{`{"Data":{"Url":"https://localhost/v3.1/event-notifications","Version":"3.1"}}`, ob.CodeFieldInvalid},
		{`{"Data":{"Url":"https://8.8.8.8/v3.1/event-notifications","Version":"3.1","X":1}}`, ob.CodeFieldUnexpected},
	} {
		if status, body := send("POST", "/callback-urls", tok, tc.body); status != http.StatusBadRequest || errorCode(t, body) != tc.code {
			t.Errorf("POST %s = %d %s, want 400 %s", tc.body, status, body, tc.code)
		}
	}
	bound := e.token(grantOpts{})
	for _, tc := range []struct {
		name, token string
		want        int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"consent-bound token", bound, http.StatusForbidden},
		{"no events scope", e.ccToken("tpp-a", "openid"), http.StatusForbidden},
	} {
		if status, _ := send("GET", "/callback-urls", tc.token, ""); status != tc.want {
			t.Errorf("%s: GET = %d, want %d", tc.name, status, tc.want)
		}
		if status, _ := send("POST", "/callback-urls", tc.token,
			`{"Data":{"Url":"https://8.8.8.8/v3.1/event-notifications","Version":"3.1"}}`); status != tc.want {
			t.Errorf("%s: POST = %d, want %d", tc.name, status, tc.want)
		}
	}
}

// tppServer is a TPP's event-notifications endpoint over loopback TLS that
// records the SETs it is sent.
type tppServer struct {
	*httptest.Server
	mu   sync.Mutex
	sets []string
}

func newTPPServer(t *testing.T) *tppServer {
	ts := &tppServer{}
	ts.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.URL.Path != "/open-banking/v3.1/event-notifications" ||
			r.Header.Get("Content-Type") != "application/jwt" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		ts.mu.Lock()
		ts.sets = append(ts.sets, string(b))
		ts.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(ts.Close)
	return ts
}

func (ts *tppServer) received() []string {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]string(nil), ts.sets...)
}

// setClaims decodes a compact SET's payload (the signature is the
// deliverer's concern, tested in package events).
func setClaims(t *testing.T, set string) map[string]any {
	t.Helper()
	parts := strings.Split(set, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %q", set)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCallbackURLDeliveryAndSupersession: events are pushed to a callback
// URL; an event subscription then replaces it.
func TestCallbackURLDeliveryAndSupersession(t *testing.T) {
	e := newCBEnv(t, openSQLite(t))
	tpp := newTPPServer(t)
	tok := e.ccToken("tpp-a", "accounts")
	url := tpp.URL + "/open-banking/v3.1/event-notifications"
	status, body := e.send("POST", "/callback-urls", tok, `{"Data":{"Url":"`+url+`","Version":"3.1"}}`)
	if status != http.StatusCreated {
		t.Fatalf("POST /callback-urls = %d %s", status, body)
	}
	var created cbResponse
	_ = json.Unmarshal(body, &created)

	ctx := context.Background()
	p := &events.Publisher{Store: e.store, Issuer: "https://bank.example", BaseURL: publicURL, Now: func() time.Time { return now }}
	if err := p.ConsentAuthorizationRevoked(ctx, ob.Consent{ID: "aac-1", Kind: ob.KindAccountAccess, TPPID: "tpp-a"}); err != nil {
		t.Fatal(err)
	}
	d := &events.Deliverer{Store: e.store, Keys: e.signer, HTTPClient: tpp.Client(), Now: func() time.Time { return now }}
	if n, err := d.Once(ctx); err != nil || n != 1 {
		t.Fatalf("Once = %d, %v; want 1 claimed", n, err)
	}
	got := tpp.received()
	if len(got) != 1 {
		t.Fatalf("TPP received %d SETs, want 1", len(got))
	}
	c := setClaims(t, got[0])
	if c["aud"] != "tpp-a" || c["sub"] != publicURL+"/open-banking/v3.1/aisp/account-access-consents/aac-1" {
		t.Errorf("claims = %v", c)
	}
	if _, ok := c["events"].(map[string]any)[events.EventURN(events.TypeConsentAuthorizationRevoked)]; !ok {
		t.Errorf("events = %v", c["events"])
	}

	// A subscription supersedes the callback URL: POST replaces it.
	status, body = e.send("POST", "/event-subscriptions", tok,
		`{"Data":{"Version":"3.1","EventTypes":["UK.OBIE.Resource-Update"]}}`)
	if status != http.StatusCreated {
		t.Fatalf("POST /event-subscriptions over a callback URL = %d %s, want 201", status, body)
	}
	if status, body := e.send("GET", "/callback-urls", tok, ""); status != http.StatusOK ||
		!strings.Contains(string(body), `"CallbackUrl":[]`) {
		t.Errorf("GET /callback-urls after a subscription = %d %s, want an empty list", status, body)
	}
	if status, body := e.send("PUT", "/callback-urls/"+created.Data.CallbackUrlId, tok,
		`{"Data":{"Url":"`+url+`","Version":"3.1"}}`); status != http.StatusBadRequest || errorCode(t, body) != ob.CodeResourceNotFound {
		t.Errorf("PUT the superseded callback URL = %d %s, want 400 NotFound", status, body)
	}
	if status, body := e.send("POST", "/callback-urls", tok, `{"Data":{"Url":"`+url+`","Version":"3.1"}}`); status != http.StatusBadRequest ||
		errorCode(t, body) != ob.CodeRulesResourceAlreadyExists {
		t.Errorf("POST /callback-urls with a subscription = %d %s, want 400 %s", status, body, ob.CodeRulesResourceAlreadyExists)
	}
	// The subscription, not the callback URL, now decides: no push, and
	// consent revocations are not wanted.
	if err := p.ConsentAuthorizationRevoked(ctx, ob.Consent{ID: "aac-2", Kind: ob.KindAccountAccess, TPPID: "tpp-a"}); err != nil {
		t.Fatal(err)
	}
	if err := p.ResourceUpdate(ctx, "tpp-a", "pay-1", "domestic-payment", publicURL+"/pay-1"); err != nil {
		t.Fatal(err)
	}
	if n, err := d.Once(ctx); err != nil || n != 0 {
		t.Errorf("Once after supersession = %d, %v; want nothing to push", n, err)
	}
	rows, _, err := e.store.PendingForPolling(ctx, "tpp-a", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].EventType != events.TypeResourceUpdate || rows[0].CallbackURL != "" {
		t.Errorf("outstanding = %+v, want the resource update for polling", rows)
	}
}

// TestCloseAccountPublishesLinkedAccountUpdate: the operator closes an
// account; each authorised account-access consent covering it raises one
// linked-account-update event for its TPP (if subscribed), and AIS shows
// the new status.
func TestCloseAccountPublishesLinkedAccountUpdate(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		store := be.open(t)
		obtest.MustImport(t, store, testData())
		e := newCBEnv(t, store)
		ctx := context.Background()
		cs := store.(ob.ConsentStore)

		// authorised creates a consent of tpp over HTTP and authorises it
		// for accounts in the store, as the customer's journey does.
		authorised := func(tpp string, accounts ...string) string {
			t.Helper()
			id := e.createConsent(e.env.ccToken(tpp))
			if accounts == nil {
				return id
			}
			if _, err := cs.UpdateConsent(ctx, id, now, func(c *ob.Consent) error {
				return c.Authorise(obtest.Alice, accounts, now)
			}); err != nil {
				t.Fatal(err)
			}
			return id
		}
		c1 := e.authorise(e.createConsent(e.env.ccToken(tppID)), now) // tpp-1: Acc1, with a bound token
		var c1ID string
		if l, err := cs.ConsentsByCustomer(ctx, obtest.Alice); err != nil || len(l) != 1 {
			t.Fatalf("ConsentsByCustomer = %v, %v", l, err)
		} else {
			c1ID = l[0].ID
		}
		c2 := authorised("tpp-2", obtest.Acc2, obtest.Acc1) // callback URL
		authorised("tpp-3", obtest.Acc1)                    // no subscription: no event
		authorised("tpp-1")                                 // awaiting authorisation: no event
		authorised("tpp-1", obtest.Acc2)                    // another account: no event
		revoked := authorised("tpp-2", obtest.Acc1)         // revoked: no event
		if _, err := cs.UpdateConsent(ctx, revoked, now, func(c *ob.Consent) error { return c.Revoke(now) }); err != nil {
			t.Fatal(err)
		}

		if status, body := e.send("POST", "/event-subscriptions", e.env.ccToken(tppID), `{"Data":{"Version":"3.1"}}`); status != http.StatusCreated {
			t.Fatalf("subscribe tpp-1 = %d %s", status, body)
		}
		tpp2 := newTPPServer(t)
		if status, body := e.send("POST", "/callback-urls", e.env.ccToken("tpp-2"),
			`{"Data":{"Url":"`+tpp2.URL+`/open-banking/v3.1/event-notifications","Version":"3.1"}}`); status != http.StatusCreated {
			t.Fatalf("callback URL for tpp-2 = %d %s", status, body)
		}

		closedAt := now.Add(time.Hour)
		p := &events.Publisher{Store: e.store, Issuer: "https://bank.example", BaseURL: publicURL, Now: func() time.Time { return closedAt }}
		done, err := events.CloseAccount(ctx, store.(events.AccountStore), p, obtest.Acc1, events.ReasonAccountClosure, closedAt)
		if err != nil {
			t.Fatal(err)
		}
		if len(done) != 3 {
			t.Errorf("CloseAccount published for %d consents, want 3 (tpp-1, tpp-2, tpp-3)", len(done))
		}

		checkSET := func(c map[string]any, tpp, consentID string) {
			t.Helper()
			link := publicURL + "/open-banking/v3.1/aisp/account-access-consents/" + consentID
			if c["aud"] != tpp || c["sub"] != link || c["iss"] != "https://bank.example" ||
				c["iat"] != float64(closedAt.Unix()) || c["toe"] != float64(closedAt.Unix()) || c["jti"] == "" || c["txn"] == "" {
				t.Errorf("claims = %v", c)
			}
			ev, _ := c["events"].(map[string]any)
			e, _ := ev["urn:uk:org:openbanking:events:account-access-consent-linked-account-update"].(map[string]any)
			subj, _ := e["subject"].(map[string]any)
			if len(ev) != 1 || e["reason"] != events.ReasonAccountClosure ||
				subj["http://openbanking.org.uk/rid"] != consentID || subj["http://openbanking.org.uk/rty"] != "account-access-consent" ||
				subj["subject_type"] != "http://openbanking.org.uk/rid_http://openbanking.org.uk/rty" {
				t.Errorf("events = %v", c["events"])
			}
		}

		// tpp-1 polls its one event.
		status, body := e.send("POST", "/events", e.env.ccToken(tppID), `{}`)
		var polled struct{ Sets map[string]string }
		if err := json.Unmarshal(body, &polled); err != nil || status != http.StatusOK || len(polled.Sets) != 1 {
			t.Fatalf("POST /events = %d %s, want one SET", status, body)
		}
		for _, set := range polled.Sets {
			checkSET(setClaims(t, set), tppID, c1ID)
		}
		// tpp-2's is pushed to its callback URL.
		d := &events.Deliverer{Store: e.store, Keys: e.signer, HTTPClient: tpp2.Client(), Now: func() time.Time { return closedAt }}
		if n, err := d.Once(ctx); err != nil || n != 1 {
			t.Fatalf("Once = %d, %v; want 1", n, err)
		}
		if got := tpp2.received(); len(got) != 1 {
			t.Fatalf("tpp-2 received %d SETs, want 1", len(got))
		} else {
			checkSET(setClaims(t, got[0]), "tpp-2", c2)
		}
		for _, tpp := range []string{"tpp-2", "tpp-3"} {
			if rows, _, err := e.store.PendingForPolling(ctx, tpp, 10); err != nil || len(rows) != 0 {
				t.Errorf("%s outstanding = %+v, %v; want none", tpp, rows, err)
			}
		}

		// AIS shows the account's new status.
		r := e.get(aisBase+"/accounts/"+obtest.Acc1, c1).wantStatus(t, http.StatusOK)
		accs := r.list("Account")
		if len(accs) != 1 || accs[0]["Status"] != "Deleted" ||
			accs[0]["StatusUpdateDateTime"] != closedAt.Format("2006-01-02T15:04:05.999999Z07:00") {
			t.Errorf("account after closure = %v", accs)
		}

		// Unknown accounts and bad reasons change nothing.
		if _, err := events.CloseAccount(ctx, store.(events.AccountStore), p, "acc-nope", events.ReasonAccountClosure, closedAt); !ob.IsNotFound(err) {
			t.Errorf("CloseAccount(unknown) = %v, want not found", err)
		}
		if _, err := events.CloseAccount(ctx, store.(events.AccountStore), p, obtest.Acc2, "UK.OBIE.Whim", closedAt); err == nil {
			t.Error("CloseAccount with a bad reason succeeded")
		}
	})
}
