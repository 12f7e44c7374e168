package httpapi_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/obank/obank/api/obie"
	"github.com/obank/obank/events"
	"github.com/obank/obank/httpapi"
	"github.com/obank/obank/internal/spectest"
	"github.com/obank/obank/ob"
)

// setSigner signs SETs with a throwaway PS256 key.
type setSigner struct{ key *rsa.PrivateKey }

func (s setSigner) SignJWT(_ context.Context, payload []byte, _ map[string]any) (string, error) {
	out, err := jws.Sign(payload, jws.WithKey(jwa.PS256(), s.key))
	return string(out), err
}

// eventsEnv is a server with the events API on a real SQLite store.
type eventsEnv struct {
	*env
	ev    *spectest.Validator
	store events.Store
}

func newEventsEnv(t *testing.T) *eventsEnv {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	store := openSQLite(t)
	es := store.(events.Store)
	svc := &events.Service{Store: es, Signer: setSigner{key}, Now: func() time.Time { return now }}
	e := newEnvWithStore(t, store, func(c *httpapi.Config) { c.Events = svc })
	return &eventsEnv{env: e, ev: spectest.MustNew(t, obie.Events, e.ts.URL), store: es}
}

// ccToken mints a client-credentials token for a TPP.
func (e *eventsEnv) ccToken(clientID string, scopes ...string) string {
	e.t.Helper()
	v := rand.Text()
	err := e.env.store.CreateAccessToken(context.Background(), ob.AccessToken{
		Hash: ob.HashToken(v), ClientID: clientID, Scopes: scopes, CreatedAt: now, ExpiresAt: now.Add(time.Hour),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return v
}

// do sends a request to the events API, validates the answer against the
// spec, and returns status and body.
func (e *eventsEnv) do(method, path, token, body string) (int, []byte) {
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
	e.ev.Check(e.t, req, resp.StatusCode, resp.Header, b)
	return resp.StatusCode, b
}

func errorCode(t *testing.T, body []byte) string {
	t.Helper()
	var r struct{ Errors []struct{ ErrorCode string } }
	if err := json.Unmarshal(body, &r); err != nil || len(r.Errors) == 0 {
		t.Fatalf("not an OBErrorResponse1: %s", body)
	}
	return r.Errors[0].ErrorCode
}

func TestEventSubscriptionsCRUD(t *testing.T) {
	e := newEventsEnv(t)
	tokA := e.ccToken("tpp-a", "accounts")
	tokB := e.ccToken("tpp-b", "payments")

	status, body := e.do("POST", "/event-subscriptions", tokA,
		`{"Data":{"Version":"3.1","EventTypes":["UK.OBIE.Consent-Authorization-Revoked"]}}`)
	if status != http.StatusCreated {
		t.Fatalf("POST = %d %s, want 201", status, body)
	}
	var created struct {
		Data struct {
			EventSubscriptionId string
			CallbackUrl         string
			Version             string
			EventTypes          []string
		}
		Links struct{ Self string }
	}
	if err := json.Unmarshal(body, &created); err != nil {
		t.Fatal(err)
	}
	id := created.Data.EventSubscriptionId
	if id == "" || created.Links.Self != publicURL+"/open-banking/v3.1/event-subscriptions/"+id {
		t.Errorf("created = %+v", created)
	}

	if status, body := e.do("POST", "/event-subscriptions", tokA, `{"Data":{"Version":"3.1"}}`); status != http.StatusConflict ||
		errorCode(t, body) != ob.CodeRulesResourceAlreadyExists {
		t.Errorf("second POST = %d %s, want 409 %s", status, body, ob.CodeRulesResourceAlreadyExists)
	}
	status, body = e.do("GET", "/event-subscriptions", tokA, "")
	if status != http.StatusOK || !strings.Contains(string(body), id) {
		t.Errorf("GET = %d %s", status, body)
	}
	// Another TPP sees none of it and cannot change it.
	if status, body := e.do("GET", "/event-subscriptions", tokB, ""); status != http.StatusOK ||
		!strings.Contains(string(body), `"EventSubscription":[]`) {
		t.Errorf("GET by another TPP = %d %s, want an empty list", status, body)
	}
	put := `{"Data":{"EventSubscriptionId":"` + id + `","Version":"3.1.11"}}`
	if status, _ := e.do("PUT", "/event-subscriptions/"+id, tokB, put); status != http.StatusForbidden {
		t.Errorf("PUT by another TPP = %d, want 403", status)
	}
	if status, _ := e.do("DELETE", "/event-subscriptions/"+id, tokB, ""); status != http.StatusForbidden {
		t.Errorf("DELETE by another TPP = %d, want 403", status)
	}
	if status, body := e.do("PUT", "/event-subscriptions/"+id, tokA,
		`{"Data":{"EventSubscriptionId":"other","Version":"3.1"}}`); status != http.StatusBadRequest ||
		errorCode(t, body) != ob.CodeFieldInvalid {
		t.Errorf("PUT with a mismatched id = %d %s, want 400", status, body)
	}
	if status, body := e.do("PUT", "/event-subscriptions/nope", tokA,
		`{"Data":{"EventSubscriptionId":"nope","Version":"3.1"}}`); status != http.StatusBadRequest ||
		errorCode(t, body) != ob.CodeResourceNotFound {
		t.Errorf("PUT unknown = %d %s, want 400 NotFound", status, body)
	}
	status, body = e.do("PUT", "/event-subscriptions/"+id, tokA, put)
	if status != http.StatusOK || !strings.Contains(string(body), `"Version":"3.1.11"`) || strings.Contains(string(body), "EventTypes") {
		t.Errorf("PUT = %d %s", status, body)
	}
	if status, _ := e.do("DELETE", "/event-subscriptions/"+id, tokA, ""); status != http.StatusNoContent {
		t.Errorf("DELETE = %d, want 204", status)
	}
	if status, body := e.do("GET", "/event-subscriptions", tokA, ""); status != http.StatusOK ||
		strings.Contains(string(body), id) {
		t.Errorf("GET after DELETE = %d %s", status, body)
	}
}

func TestEventSubscriptionsValidation(t *testing.T) {
	e := newEventsEnv(t)
	tok := e.ccToken("tpp-a", "fundsconfirmations")
	for _, tc := range []struct {
		body string
		code string
	}{
		{`{"Data":{}}`, ob.CodeFieldMissing},
		{`{}`, ob.CodeFieldMissing},
		{`{"Data":{"Version":"3.1","EventTypes":["UK.OBIE.Made-Up"]}}`, events.CodeUnsupportedEventType},
		{`{"Data":{"Version":"3.1","CallbackUrl":"https://127.0.0.1/v3.1/event-notifications"}}`, ob.CodeFieldInvalid},
		{`{"Data":{"Version":"3.1","CallbackUrl":"https://10.1.2.3/v3.1/event-notifications"}}`, ob.CodeFieldInvalid},
		{`{"Data":{"Version":"3.1","CallbackUrl":"https://169.254.169.254/v3.1/event-notifications"}}`, ob.CodeFieldInvalid},
		{`{"Data":{"Version":"3.1","CallbackUrl":"https://[::1]/v3.1/event-notifications"}}`, ob.CodeFieldInvalid},
		{`{"Data":{"Version":"3.1","CallbackUrl":"https://localhost/v3.1/event-notifications"}}`, ob.CodeFieldInvalid},
		{`{"Data":{"Version":"3.1","CallbackUrl":"http://8.8.8.8/v3.1/event-notifications"}}`, ob.CodeFieldInvalid},
		{`{"Data":{"Version":"3.1","CallbackUrl":"https://8.8.8.8/callback"}}`, ob.CodeFieldInvalid},
		{`{"Data":{"Version":"3.1","CallbackUrl":""}}`, ob.CodeFieldInvalid},
		{`{"Data":{"Version":"3.1","Extra":1}}`, ob.CodeFieldUnexpected},
	} {
		status, body := e.do("POST", "/event-subscriptions", tok, tc.body)
		if status != http.StatusBadRequest || errorCode(t, body) != tc.code {
			t.Errorf("POST %s = %d %s, want 400 %s", tc.body, status, body, tc.code)
		}
	}
	// A public callback is accepted.
	if status, body := e.do("POST", "/event-subscriptions", tok,
		`{"Data":{"Version":"3.1","CallbackUrl":"https://8.8.8.8/open-banking/v3.1/event-notifications"}}`); status != http.StatusCreated {
		t.Errorf("POST public callback = %d %s", status, body)
	}
}

func TestEventsAuth(t *testing.T) {
	e := newEventsEnv(t)
	bound := e.token(grantOpts{}) // an authorization-code token bound to a consent
	for _, tc := range []struct {
		name  string
		token string
		want  int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"consent-bound token", bound, http.StatusForbidden},
		{"no events scope", e.ccToken("tpp-a", "openid"), http.StatusForbidden},
	} {
		if status, _ := e.do("GET", "/event-subscriptions", tc.token, ""); status != tc.want {
			t.Errorf("%s: GET = %d, want %d", tc.name, status, tc.want)
		}
		if status, _ := e.do("POST", "/events", tc.token, `{}`); status != tc.want {
			t.Errorf("%s: POST /events = %d, want %d", tc.name, status, tc.want)
		}
	}
}

func TestEventsPolling(t *testing.T) {
	e := newEventsEnv(t)
	tok := e.ccToken("tpp-a", "accounts")
	if status, body := e.do("POST", "/event-subscriptions", tok, `{"Data":{"Version":"3.1"}}`); status != http.StatusCreated {
		t.Fatalf("POST subscription = %d %s", status, body)
	}
	p := &events.Publisher{Store: e.store, Issuer: "https://bank.example", BaseURL: publicURL, Now: func() time.Time { return now }}
	for _, id := range []string{"aac-1", "aac-2", "aac-3"} {
		c := ob.Consent{ID: id, Kind: ob.KindAccountAccess, TPPID: "tpp-a"}
		if err := p.ConsentAuthorizationRevoked(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
	type pollResp struct {
		MoreAvailable bool              `json:"moreAvailable"`
		Sets          map[string]string `json:"sets"`
	}
	poll := func(body string) pollResp {
		t.Helper()
		status, b := e.do("POST", "/events", tok, body)
		if status != http.StatusOK {
			t.Fatalf("POST /events %s = %d %s", body, status, b)
		}
		var r pollResp
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	r := poll(`{"maxEvents":2,"returnImmediately":true}`)
	if len(r.Sets) != 2 || !r.MoreAvailable {
		t.Fatalf("first poll = %+v; want 2 and more", r)
	}
	var acks []string
	for jti := range r.Sets {
		acks = append(acks, `"`+jti+`"`)
	}
	r = poll(`{"maxEvents":0,"ack":[` + strings.Join(acks, ",") + `]}`)
	if len(r.Sets) != 0 || !r.MoreAvailable {
		t.Fatalf("ack-only poll = %+v; want no sets and more", r)
	}
	r = poll(`{}`)
	if len(r.Sets) != 1 || r.MoreAvailable {
		t.Fatalf("third poll = %+v; want the last event", r)
	}
	var last string
	for jti := range r.Sets {
		last = jti
	}
	r = poll(`{"setErrs":{"` + last + `":{"err":"jwtAud","description":"not for us"}}}`)
	if len(r.Sets) != 0 || r.MoreAvailable {
		t.Errorf("after setErrs = %+v; want empty", r)
	}
	if status, body := e.do("POST", "/events", tok, `{"maxEvents":-1}`); status != http.StatusBadRequest ||
		errorCode(t, body) != ob.CodeFieldInvalid {
		t.Errorf("maxEvents -1 = %d %s", status, body)
	}
}
