package httpapi_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/obank/obank/httpapi"
	"github.com/obank/obank/janitor"
	"github.com/obank/obank/ob"
	"github.com/obank/obank/obtest"
)

const consentsPath = aisBase + "/account-access-consents"

// ccToken stores a client-credentials token of clientID with scopes
// (default accounts) and returns the bearer value.
func (e *env) ccToken(clientID string, scopes ...string) string {
	e.t.Helper()
	if scopes == nil {
		scopes = []string{"accounts"}
	}
	bearer := rand.Text()
	tok := ob.AccessToken{Hash: ob.HashToken(bearer), ClientID: clientID, Scopes: scopes,
		CreatedAt: now.Add(-time.Minute), ExpiresAt: now.Add(72 * time.Hour)}
	if err := e.store.CreateAccessToken(context.Background(), tok); err != nil {
		e.t.Fatalf("CreateAccessToken: %v", err)
	}
	return bearer
}

// call sends a request with an optional JSON body (Content-Type
// application/json unless a Content-Type header is given) and validates
// every answer but 404/405 against the spec, whatever the method.
func (e *env) call(method, path, bearer, body string, headers ...string) response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.ts.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	r, resp := e.exchange(req)
	b := r.body
	if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusMethodNotAllowed {
		req.Body = nil
		e.v.Check(e.t, req, resp.StatusCode, resp.Header, b)
	}
	if resp.Header.Get("x-fapi-interaction-id") == "" {
		e.t.Errorf("%s %s -> %d: no x-fapi-interaction-id", method, path, resp.StatusCode)
	}
	return r
}

func (r response) data() map[string]any {
	d, _ := r.json["Data"].(map[string]any)
	return d
}

// createConsent posts a valid consent and returns its id.
func (e *env) createConsent(bearer string, perms ...ob.Permission) string {
	e.t.Helper()
	if perms == nil {
		perms = ob.AllPermissions
	}
	b, _ := json.Marshal(map[string]any{
		"Data": map[string]any{"Permissions": perms, "ExpirationDateTime": now.Add(24 * time.Hour).Format(time.RFC3339)},
		"Risk": map[string]any{},
	})
	r := e.call(http.MethodPost, consentsPath, bearer, string(b)).wantStatus(e.t, http.StatusCreated)
	id, _ := r.data()["ConsentId"].(string)
	if id == "" {
		e.t.Fatalf("no ConsentId in %s", r.body)
	}
	return id
}

func TestConsentLifecycle(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		e := newEnv(t, be)
		cc := e.ccToken(tppID)
		exp, from, to := "2026-03-01T10:00:00+01:00", "2025-01-01T00:00:00Z", "2026-01-01T00:00:00.5Z"
		body := `{"Data":{"Permissions":["ReadAccountsDetail","ReadTransactionsBasic","ReadTransactionsDebits","ReadAccountsDetail"],` +
			`"ExpirationDateTime":"` + exp + `","TransactionFromDateTime":"` + from + `","TransactionToDateTime":"` + to + `"},"Risk":{}}`
		r := e.call(http.MethodPost, consentsPath, cc, body).wantStatus(t, http.StatusCreated)
		d := r.data()
		id, _ := d["ConsentId"].(string)
		if !strings.HasPrefix(id, "aac-") {
			t.Errorf("ConsentId = %q", id)
		}
		want := map[string]any{
			"ConsentId": id, "Status": "AwaitingAuthorisation",
			"CreationDateTime": "2026-01-15T09:30:00.123456Z", "StatusUpdateDateTime": "2026-01-15T09:30:00.123456Z",
			"Permissions":        []any{"ReadAccountsDetail", "ReadTransactionsBasic", "ReadTransactionsDebits"},
			"ExpirationDateTime": "2026-03-01T09:00:00Z", "TransactionFromDateTime": "2025-01-01T00:00:00Z",
			"TransactionToDateTime": "2026-01-01T00:00:00.5Z",
		}
		if d := cmpJSON(want, d); d != "" {
			t.Errorf("POST Data (-want +got):\n%s", d)
		}
		if risk, ok := r.json["Risk"].(map[string]any); !ok || len(risk) != 0 {
			t.Errorf("Risk = %v, want {}", r.json["Risk"])
		}
		self := publicURL + consentsPath + "/" + id
		if r.links()["Self"] != self {
			t.Errorf("Links.Self = %v, want %s", r.links()["Self"], self)
		}
		if _, ok := r.json["Meta"]; !ok {
			t.Error("no Meta")
		}

		got := e.call(http.MethodGet, consentsPath+"/"+id, cc, "").wantStatus(t, http.StatusOK)
		if d := cmpJSON(r.json, got.json); d != "" {
			t.Errorf("GET differs from POST (-post +get):\n%s", d)
		}

		e.call(http.MethodDelete, consentsPath+"/"+id, cc, "").wantNoBody(t, http.StatusNoContent)
		e.call(http.MethodGet, consentsPath+"/"+id, cc, "").wantError(t, 400, ob.CodeResourceNotFound, "")
		e.call(http.MethodDelete, consentsPath+"/"+id, cc, "").wantError(t, 400, ob.CodeResourceNotFound, "")
		e.call(http.MethodGet, consentsPath+"/aac-unknown", cc, "").wantError(t, 400, ob.CodeResourceNotFound, "")
		e.call(http.MethodDelete, consentsPath+"/aac-unknown", cc, "").wantError(t, 400, ob.CodeResourceNotFound, "")
	})
}

// cmpJSON diffs two decoded JSON values.
func cmpJSON(want, got any) string {
	w, _ := json.MarshalIndent(want, "", " ")
	g, _ := json.MarshalIndent(got, "", " ")
	if string(w) == string(g) {
		return ""
	}
	return "want: " + string(w) + "\ngot:  " + string(g)
}

func TestConsentValidation(t *testing.T) {
	e := newEnv(t, backends()[0])
	cc := e.ccToken(tppID)
	future := now.Add(time.Hour).Format(time.RFC3339)
	body := func(data string) string { return `{"Data":{` + data + `},"Risk":{}}` }
	const accounts = `"Permissions":["ReadAccountsBasic"]`
	tests := []struct {
		name   string
		body   string
		header string
		status int
		code   string
		path   string
	}{
		{name: "not JSON", body: `{"Data":`, status: 400, code: ob.CodeResourceInvalidFormat},
		{name: "wrong type", body: `{"Data":{"Permissions":"ReadAccountsBasic"},"Risk":{}}`, status: 400, code: ob.CodeResourceInvalidFormat},
		{name: "unknown field", body: `{"Data":{` + accounts + `,"Foo":1},"Risk":{}}`, status: 400, code: ob.CodeFieldUnexpected},
		{name: "no Data", body: `{"Risk":{}}`, status: 400, code: ob.CodeFieldMissing, path: "Data"},
		{name: "no Risk", body: `{"Data":{` + accounts + `}}`, status: 400, code: ob.CodeFieldMissing, path: "Risk"},
		{name: "null Risk", body: `{"Data":{` + accounts + `},"Risk":null}`, status: 400, code: ob.CodeFieldMissing, path: "Risk"},
		{name: "Risk not an object", body: `{"Data":{` + accounts + `},"Risk":[]}`, status: 400, code: ob.CodeFieldInvalid, path: "Risk"},
		{name: "no Permissions", body: body(`"ExpirationDateTime":"` + future + `"`), status: 400, code: ob.CodeFieldMissing, path: "Data.Permissions"},
		{name: "empty Permissions", body: body(`"Permissions":[]`), status: 400, code: ob.CodeFieldInvalid, path: "Data.Permissions"},
		{name: "unknown permission", body: body(`"Permissions":["ReadAccountsBasic","ReadEverything"]`), status: 400, code: ob.CodeFieldInvalid, path: "Data.Permissions"},
		{name: "no accounts permission", body: body(`"Permissions":["ReadBalances"]`), status: 400, code: ob.CodeFieldInvalid, path: "Data.Permissions"},
		{name: "transactions basic without side", body: body(`"Permissions":["ReadAccountsBasic","ReadTransactionsBasic"]`), status: 400, code: ob.CodeFieldInvalid, path: "Data.Permissions"},
		{name: "transactions detail without side", body: body(`"Permissions":["ReadAccountsBasic","ReadTransactionsDetail"]`), status: 400, code: ob.CodeFieldInvalid, path: "Data.Permissions"},
		{name: "credits without level", body: body(`"Permissions":["ReadAccountsBasic","ReadTransactionsCredits"]`), status: 400, code: ob.CodeFieldInvalid, path: "Data.Permissions"},
		{name: "debits without level", body: body(`"Permissions":["ReadAccountsBasic","ReadTransactionsDebits"]`), status: 400, code: ob.CodeFieldInvalid, path: "Data.Permissions"},
		{name: "expiry in the past", body: body(accounts + `,"ExpirationDateTime":"2020-01-01T00:00:00Z"`), status: 400, code: ob.CodeFieldInvalidDate, path: "Data.ExpirationDateTime"},
		{name: "expiry now", body: body(accounts + `,"ExpirationDateTime":"` + now.Format(time.RFC3339Nano) + `"`), status: 400, code: ob.CodeFieldInvalidDate, path: "Data.ExpirationDateTime"},
		{name: "malformed expiry", body: body(accounts + `,"ExpirationDateTime":"tomorrow"`), status: 400, code: ob.CodeFieldInvalidDate, path: "Data.ExpirationDateTime"},
		{name: "malformed from", body: body(accounts + `,"TransactionFromDateTime":"2025-13-01T00:00:00Z"`), status: 400, code: ob.CodeFieldInvalidDate, path: "Data.TransactionFromDateTime"},
		{name: "malformed to", body: body(accounts + `,"TransactionToDateTime":"2025-01-01"`), status: 400, code: ob.CodeFieldInvalidDate, path: "Data.TransactionToDateTime"},
		{name: "from after to", body: body(accounts + `,"TransactionFromDateTime":"2025-02-01T00:00:00Z","TransactionToDateTime":"2025-01-01T00:00:00Z"`), status: 400, code: ob.CodeFieldInvalid, path: "Data.TransactionFromDateTime"},
		{name: "text/plain", body: body(accounts), header: "Content-Type: text/plain", status: 415},
		{name: "no Content-Type", body: body(accounts), header: "Content-Type:", status: 415},
		// Accepted: the edge of each rule.
		{name: "detail with credits", body: body(`"Permissions":["ReadAccountsDetail","ReadTransactionsDetail","ReadTransactionsCredits"]`), status: 201},
		{name: "from equals to, no zone", body: body(accounts + `,"TransactionFromDateTime":"2025-01-01T00:00:00","TransactionToDateTime":"2025-01-01T00:00:00Z"`), status: 201},
		{name: "expiry just after now", body: body(accounts + `,"ExpirationDateTime":"` + now.Add(time.Microsecond).Format(time.RFC3339Nano) + `"`), status: 201},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var headers []string
			if tc.header != "" {
				headers = append(headers, tc.header)
			}
			r := e.call(http.MethodPost, consentsPath, cc, tc.body, headers...)
			switch {
			case tc.status == 415:
				r.wantNoBody(t, 415)
			case tc.code == "":
				r.wantStatus(t, tc.status)
			default:
				r.wantError(t, tc.status, tc.code, tc.path)
			}
		})
	}
}

func TestConsentAccess(t *testing.T) {
	e := newEnv(t, backends()[0])
	cc := e.ccToken(tppID)
	id := e.createConsent(cc)
	other := e.ccToken("tpp-2")
	path := consentsPath + "/" + id

	// Missing and bad tokens: 401 without body.
	e.call(http.MethodPost, consentsPath, "", `{"Data":{"Permissions":["ReadAccountsBasic"]},"Risk":{}}`).wantNoBody(t, 401)
	e.call(http.MethodGet, path, "", "").wantNoBody(t, 401)
	e.call(http.MethodDelete, path, "nonsense", "").wantNoBody(t, 401)

	forbidden := []struct {
		name   string
		bearer string
	}{
		{"another TPP", other},
		{"a token bound to a consent", e.token(grantOpts{})},
		{"no accounts scope", e.ccToken(tppID, "payments")},
	}
	for _, tc := range forbidden {
		t.Run(tc.name, func(t *testing.T) {
			e.call(http.MethodGet, path, tc.bearer, "").wantError(t, 403, ob.CodeResourceConsentMismatch, "")
			e.call(http.MethodDelete, path, tc.bearer, "").wantError(t, 403, ob.CodeResourceConsentMismatch, "")
			if tc.bearer != other {
				e.call(http.MethodPost, consentsPath, tc.bearer, `{"Data":{"Permissions":["ReadAccountsBasic"]},"Risk":{}}`).
					wantError(t, 403, ob.CodeResourceConsentMismatch, "")
			}
		})
	}
	// Another TPP's DELETE changed nothing: the owner still reads it.
	e.call(http.MethodGet, path, cc, "").wantStatus(t, http.StatusOK)

	// A consent of another kind is not an account-access consent.
	cs := e.store.(ob.ConsentStore)
	pay := obtest.NewConsent("pdc-1", tppID, now)
	pay.Kind = ob.KindDomesticPayment
	if err := cs.CreateConsent(context.Background(), pay); err != nil {
		t.Fatal(err)
	}
	e.call(http.MethodGet, consentsPath+"/pdc-1", cc, "").wantError(t, 400, ob.CodeResourceNotFound, "")
}

// recordingEvents is a ConsentEvents that remembers its calls.
type recordingEvents struct {
	mu      sync.Mutex
	revoked []ob.Consent
}

func (r *recordingEvents) ConsentRevoked(ctx context.Context, c ob.Consent) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.revoked = append(r.revoked, c)
	return nil
}

// authorise authorises consent id for Alice's Acc1 directly in the store,
// as the customer's journey does, and returns a token bound to it.
func (e *env) authorise(id string, at time.Time) string {
	e.t.Helper()
	cs := e.store.(ob.ConsentStore)
	if _, err := cs.UpdateConsent(context.Background(), id, at, func(c *ob.Consent) error {
		return c.Authorise(obtest.Alice, []string{obtest.Acc1}, at)
	}); err != nil {
		e.t.Fatalf("authorise: %v", err)
	}
	bearer := rand.Text()
	tok := ob.AccessToken{Hash: ob.HashToken(bearer), GrantID: id, ClientID: tppID, Scopes: []string{"openid", "accounts"},
		CreatedAt: at, ExpiresAt: at.Add(48 * time.Hour)}
	if err := e.store.CreateAccessToken(context.Background(), tok); err != nil {
		e.t.Fatal(err)
	}
	return bearer
}

// TestConsentDeleteRevokesAccess: the TPP's DELETE of an authorised consent
// makes its tokens 401 at once and notifies ConsentEvents.
func TestConsentDeleteRevokesAccess(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		ev := &recordingEvents{}
		e := newEnv(t, be, func(c *httpapi.Config) { c.ConsentEvents = ev })
		cc := e.ccToken(tppID)
		id := e.createConsent(cc)
		bearer := e.authorise(id, now)

		got := e.call(http.MethodGet, consentsPath+"/"+id, cc, "").wantStatus(t, http.StatusOK)
		if got.data()["Status"] != "Authorised" {
			t.Errorf("Status = %v, want Authorised", got.data()["Status"])
		}
		accs := e.get(aisBase+"/accounts", bearer).wantStatus(t, http.StatusOK).list("Account")
		if len(accs) != 1 || accs[0]["AccountId"] != obtest.Acc1 {
			t.Errorf("accounts = %v, want only %s", accs, obtest.Acc1)
		}

		e.call(http.MethodDelete, consentsPath+"/"+id, cc, "").wantNoBody(t, http.StatusNoContent)
		e.get(aisBase+"/accounts", bearer).wantNoBody(t, http.StatusUnauthorized)
		if len(ev.revoked) != 1 || ev.revoked[0].ID != id || ev.revoked[0].DeletedAt == nil ||
			ev.revoked[0].Status != ob.ConsentAuthorised {
			t.Errorf("ConsentRevoked calls = %+v, want one for the deleted authorised consent", ev.revoked)
		}
		// A refused DELETE notifies nobody.
		e.call(http.MethodDelete, consentsPath+"/"+id, cc, "").wantError(t, 400, ob.CodeResourceNotFound, "")
		if len(ev.revoked) != 1 {
			t.Errorf("ConsentRevoked called %d times, want 1", len(ev.revoked))
		}
	})
}

// settableClock is a server clock tests move.
type settableClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *settableClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *settableClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// TestConsentExpiry: the janitor moves a due authorised consent to Expired
// (read as Revoked on the wire) and revokes its tokens, and a due
// unauthorised one to Rejected.
func TestConsentExpiry(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		clock := &settableClock{t: now}
		e := newEnv(t, be, func(c *httpapi.Config) { c.Now = clock.Now })
		cc := e.ccToken(tppID)
		authorised := e.createConsent(cc)
		bearer := e.authorise(authorised, now)
		awaiting := e.createConsent(cc)
		e.get(aisBase+"/accounts", bearer).wantStatus(t, http.StatusOK)

		cs := e.store.(ob.ConsentStore)
		// Before the expiry the janitor changes nothing.
		if got, err := janitor.Once(context.Background(), cs, now.Add(23*time.Hour)); err != nil || len(got) != 0 {
			t.Fatalf("janitor.Once before expiry = %v, %v", got, err)
		}
		at := now.Add(24 * time.Hour)
		got, err := janitor.Once(context.Background(), cs, at)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, c := range got {
			ids = append(ids, c.ID)
		}
		slices.Sort(ids)
		wantIDs := []string{authorised, awaiting}
		slices.Sort(wantIDs)
		if !slices.Equal(ids, wantIDs) {
			t.Errorf("expired %v, want %v", ids, wantIDs)
		}
		// Even with the server's clock before the expiry, the revoked
		// token no longer works.
		e.get(aisBase+"/accounts", bearer).wantNoBody(t, http.StatusUnauthorized)
		clock.Set(at)
		for id, want := range map[string]string{authorised: "Revoked", awaiting: "Rejected"} {
			r := e.call(http.MethodGet, consentsPath+"/"+id, cc, "").wantStatus(t, http.StatusOK)
			if r.data()["Status"] != want {
				t.Errorf("%s Status = %v, want %s", id, r.data()["Status"], want)
			}
		}
	})
}

// TestConsentTimesStable: the times in the POST response are the ones a
// later GET shows (the store keeps microseconds).
func TestConsentTimesStable(t *testing.T) {
	e := newEnv(t, backends()[0], func(c *httpapi.Config) {
		c.Now = func() time.Time { return now.Add(123456789 * time.Nanosecond) }
	})
	cc := e.token(grantOpts{noGrant: true, scopes: []string{"accounts"}})
	created := e.call(http.MethodPost, consentsPath, cc, `{"Data":{"Permissions":["ReadAccountsBasic"]},"Risk":{}}`).
		wantStatus(t, http.StatusCreated)
	data := created.json["Data"].(map[string]any)
	got := e.call(http.MethodGet, consentsPath+"/"+data["ConsentId"].(string), cc, "").wantStatus(t, http.StatusOK)
	for _, f := range []string{"CreationDateTime", "StatusUpdateDateTime"} {
		if a, b := data[f], got.json["Data"].(map[string]any)[f]; a != b {
			t.Errorf("%s: POST said %v, GET says %v", f, a, b)
		}
	}
}
