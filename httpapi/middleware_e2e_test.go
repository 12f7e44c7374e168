package httpapi_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/obank/obank/httpapi"
	"github.com/obank/obank/ob"
	"github.com/obank/obank/obtest"
)

func TestUnauthorized(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		e := newEnv(t, be)
		tests := []struct {
			name   string
			header string // full Authorization header; "" = none
		}{
			{"no header", ""},
			{"basic scheme", "Basic dXNlcjpwYXNz"},
			{"bearer without token", "Bearer "},
			{"unknown token", "Bearer " + "no-such-token"},
			{"expired token", "Bearer " + e.token(grantOpts{tokenTTL: -time.Minute})},
			{"revoked token", "Bearer " + e.token(grantOpts{revokeTok: true})},
			{"revoked grant", "Bearer " + e.token(grantOpts{revoked: true})},
			{"expired grant", "Bearer " + e.token(grantOpts{expires: ptr(now.Add(-time.Minute))})},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var hdr []string
				if tt.header != "" {
					hdr = append(hdr, "Authorization: "+tt.header)
				}
				r := e.get(aisBase+"/accounts", "", hdr...)
				r.wantNoBody(t, http.StatusUnauthorized)
				if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("WWW-Authenticate = %q", r.header.Get("WWW-Authenticate"))
				}
				if _, err := uuid.Parse(r.header.Get("x-fapi-interaction-id")); err != nil {
					t.Errorf("interaction id %q: %v", r.header.Get("x-fapi-interaction-id"), err)
				}
				if ct := r.header.Get("Content-Type"); ct != "" {
					t.Errorf("Content-Type = %q on a body-less answer", ct)
				}
			})
		}
		t.Run("lower-case scheme accepted", func(t *testing.T) {
			e.get(aisBase+"/accounts", "", "Authorization: bearer "+e.token(grantOpts{})).wantStatus(t, 200)
		})
	})
}

func TestInteractionID(t *testing.T) {
	e := newEnv(t, backends()[0])
	tok := e.token(grantOpts{})
	id := "93bac548-d2de-4546-b106-880a5018460d"
	t.Run("echoed", func(t *testing.T) {
		r := e.get(aisBase+"/accounts", tok, "x-fapi-interaction-id: "+id).wantStatus(t, 200)
		if got := r.header.Get("x-fapi-interaction-id"); got != id {
			t.Errorf("interaction id = %q, want %q", got, id)
		}
	})
	t.Run("echoed on errors", func(t *testing.T) {
		for _, path := range []string{aisBase + "/accounts", aisBase + "/accounts/acc-nope", "/nowhere"} {
			bearer := tok
			if path == aisBase+"/accounts" {
				bearer = "" // 401
			}
			r := e.get(path, bearer, "x-fapi-interaction-id: "+id)
			if got := r.header.Get("x-fapi-interaction-id"); got != id {
				t.Errorf("%s -> %d: interaction id = %q, want %q", path, r.status, got, id)
			}
		}
	})
	t.Run("generated", func(t *testing.T) {
		a := e.get(aisBase+"/accounts", tok).header.Get("x-fapi-interaction-id")
		b := e.get(aisBase+"/accounts", tok).header.Get("x-fapi-interaction-id")
		if _, err := uuid.Parse(a); err != nil || a == b {
			t.Errorf("generated ids %q, %q: want distinct UUIDs", a, b)
		}
	})
	for _, bad := range []string{"not-a-uuid", "93bac548d2de4546b106880a5018460d", "{93bac548-d2de-4546-b106-880a5018460d}"} {
		t.Run("invalid "+bad, func(t *testing.T) {
			r := e.get(aisBase+"/accounts", tok, "x-fapi-interaction-id: "+bad)
			r.wantError(t, 400, ob.CodeHeaderInvalid, "x-fapi-interaction-id")
			if got := r.header.Get("x-fapi-interaction-id"); got == bad || got == "" {
				t.Errorf("answer interaction id = %q, want a fresh UUID", got)
			}
		})
	}
}

func TestFAPIHeaders(t *testing.T) {
	e := newEnv(t, backends()[0])
	tok := e.token(grantOpts{})
	tests := []struct {
		name, header string
		wantPath     string // "" = accepted
	}{
		{"auth date", "x-fapi-auth-date: Sun, 10 Sep 2017 19:43:31 UTC", ""},
		{"auth date GMT", "x-fapi-auth-date: Mon, 05 Jan 2026 08:00:00 GMT", ""},
		{"auth date ISO", "x-fapi-auth-date: 2017-09-10T19:43:31Z", "x-fapi-auth-date"},
		{"auth date bad day", "x-fapi-auth-date: Sunday, 10 Sep 2017 19:43:31 UTC", "x-fapi-auth-date"},
		{"ip v4", "x-fapi-customer-ip-address: 192.0.2.10", ""},
		{"ip v6", "x-fapi-customer-ip-address: 2001:db8::1", ""},
		{"ip bad", "x-fapi-customer-ip-address: 999.1.1.1", "x-fapi-customer-ip-address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.get(aisBase+"/accounts", tok, tt.header)
			if tt.wantPath == "" {
				r.wantStatus(t, 200)
				return
			}
			r.wantError(t, 400, ob.CodeHeaderInvalid, tt.wantPath)
		})
	}
}

func TestAccept(t *testing.T) {
	e := newEnv(t, backends()[0])
	tok := e.token(grantOpts{})
	for _, tt := range []struct {
		accept string
		ok     bool
	}{
		{"", true},
		{"*/*", true},
		{"application/*", true},
		{"application/json", true},
		{"application/json; charset=utf-8", true},
		{"text/html, application/json;q=0.9", true},
		{"application/xml", false},
		{"text/plain", false},
		{"application/json;q=0", false},
		{"application/pdf", false},
	} {
		t.Run(tt.accept, func(t *testing.T) {
			var hdr []string
			if tt.accept != "" {
				hdr = append(hdr, "Accept: "+tt.accept)
			}
			r := e.get(aisBase+"/accounts/"+obtest.Acc1+"/statements/stmt-001-01/file", tok, hdr...)
			if tt.ok {
				r.wantStatus(t, 200)
			} else {
				r.wantNoBody(t, http.StatusNotAcceptable)
			}
		})
	}
}

func TestRouting(t *testing.T) {
	e := newEnv(t, backends()[0])
	tok := e.token(grantOpts{})
	t.Run("405 has no body", func(t *testing.T) {
		for _, m := range []string{http.MethodPost, http.MethodDelete, http.MethodPut} {
			r := e.do(m, aisBase+"/accounts", tok, strings.NewReader(`{}`), "Content-Type: application/json")
			r.wantNoBody(t, http.StatusMethodNotAllowed)
			if r.header.Get("Allow") == "" {
				t.Errorf("%s: no Allow header", m)
			}
		}
	})
	t.Run("404 unknown route", func(t *testing.T) {
		e.get(aisBase+"/accounts/abc/unknown-resource", tok).wantNoBody(t, http.StatusNotFound)
		e.get("/nowhere", tok).wantNoBody(t, http.StatusNotFound)
	})
	t.Run("health", func(t *testing.T) {
		e.get("/healthz", "").wantStatus(t, 200)
		e.get("/readyz", "").wantStatus(t, 200)
	})
	t.Run("specs", func(t *testing.T) {
		idx := e.get("/open-banking/specs/", "").wantStatus(t, 200)
		if !strings.Contains(string(idx.body), "account-info-openapi.yaml") {
			t.Errorf("index = %s", idx.body)
		}
		f := e.get("/open-banking/specs/account-info-openapi.yaml", "").wantStatus(t, 200)
		if f.header.Get("Content-Type") != "application/yaml" || !strings.HasPrefix(string(f.body), "openapi:") {
			t.Errorf("spec file: %s %.40s", f.header.Get("Content-Type"), f.body)
		}
		e.get("/open-banking/specs/SOURCE.md", "").wantNoBody(t, http.StatusNotFound)
		e.get("/open-banking/specs/nope.yaml", "").wantNoBody(t, http.StatusNotFound)
		e.do(http.MethodPost, "/open-banking/specs/account-info-openapi.yaml", "", nil).wantNoBody(t, http.StatusMethodNotAllowed)
	})
}

// failingStore fails the calls named in fail with an error whose text must
// never reach a client.
type failingStore struct {
	ob.Store
	fail string
}

const secret = "pq: connection to 10.0.0.7 refused (password=hunter2)"

var errSecret = errors.New(secret)

func (f failingStore) Balances(ctx context.Context, ids []string) ([]ob.Balance, error) {
	if f.fail == "Balances" {
		return nil, errSecret
	}
	return f.Store.Balances(ctx, ids)
}

func (f failingStore) TokenGrant(ctx context.Context, hash string) (ob.AccessToken, *ob.AccessGrant, error) {
	if f.fail == "TokenGrant" {
		return ob.AccessToken{}, nil, errSecret
	}
	return f.Store.TokenGrant(ctx, hash)
}

func (f failingStore) Ping(ctx context.Context) error {
	if f.fail == "Ping" {
		return errSecret
	}
	return f.Store.Ping(ctx)
}

func TestInternalErrors(t *testing.T) {
	for _, fail := range []string{"Balances", "TokenGrant"} {
		t.Run(fail, func(t *testing.T) {
			store := openSQLite(t)
			obtest.MustImport(t, store, testData())
			e := newEnvWithStore(t, failingStore{Store: store, fail: fail})
			tok := e.token(grantOpts{})
			r := e.get(aisBase+"/balances", tok)
			r.wantError(t, 500, ob.CodeUnexpectedError, "")
			if strings.Contains(string(r.body), "hunter2") || strings.Contains(string(r.body), "10.0.0.7") {
				t.Errorf("500 body leaks the internal error: %s", r.body)
			}
			id := r.header.Get("x-fapi-interaction-id")
			log := e.logBuf.String()
			if !strings.Contains(log, secret) || !strings.Contains(log, id) {
				t.Errorf("the internal error is not logged with interaction id %s:\n%s", id, log)
			}
		})
	}
	t.Run("readyz", func(t *testing.T) {
		store := openSQLite(t)
		e := newEnvWithStore(t, failingStore{Store: store, fail: "Ping"})
		r := e.get("/readyz", "").wantStatus(t, http.StatusServiceUnavailable)
		if strings.Contains(string(r.body), "hunter2") {
			t.Errorf("readyz leaks: %s", r.body)
		}
	})
}

// recordingStore captures RecordAPICalls.
type recordingStore struct {
	ob.Store
	mu    sync.Mutex
	calls []ob.APICall
}

func (s *recordingStore) RecordAPICalls(ctx context.Context, calls []ob.APICall) error {
	s.mu.Lock()
	s.calls = append(s.calls, calls...)
	s.mu.Unlock()
	return s.Store.RecordAPICalls(ctx, calls)
}

func TestAccessLogAndCallRecording(t *testing.T) {
	store := openSQLite(t)
	obtest.MustImport(t, store, testData())
	rs := &recordingStore{Store: store}
	e := newEnvWithStore(t, rs, func(c *httpapi.Config) { c.RecordInterval = time.Hour })
	tok := e.token(grantOpts{})
	id := "5b8cf2a4-1c6d-4d5f-9f0e-0f6f1c1d2e3f"
	e.get(aisBase+"/accounts/"+obtest.Acc1+"/balances", tok,
		"x-fapi-interaction-id: "+id, "x-fapi-auth-date: Sun, 10 Sep 2017 19:43:31 UTC",
		"x-fapi-customer-ip-address: 192.0.2.1", "x-customer-user-agent: TestAgent/1.0").wantStatus(t, 200)
	e.get(aisBase+"/accounts", "").wantStatus(t, 401)
	e.get("/healthz", "").wantStatus(t, 200)

	// Nothing is written synchronously: the interval is an hour.
	rs.mu.Lock()
	n := len(rs.calls)
	rs.mu.Unlock()
	if n != 0 {
		t.Errorf("%d calls recorded before the flush", n)
	}
	if err := e.srv.Close(); err != nil {
		t.Fatal(err)
	}
	rs.mu.Lock()
	calls := rs.calls
	rs.mu.Unlock()
	if len(calls) != 2 {
		t.Fatalf("recorded %d calls, want 2 (health checks are not API calls): %+v", len(calls), calls)
	}
	c := calls[0]
	want := ob.APICall{InteractionID: id, ClientID: tppID, Method: "GET", Route: aisBase + "/accounts/{AccountId}/balances",
		Status: 200, FAPIAuthDate: "Sun, 10 Sep 2017 19:43:31 UTC", CustomerIPAddress: "192.0.2.1",
		CustomerUserAgent: "TestAgent/1.0", At: now}
	if c.GrantID == "" || c.LatencyMicros <= 0 {
		t.Errorf("GrantID/LatencyMicros not set: %+v", c)
	}
	c.GrantID, c.LatencyMicros = "", 0
	if c != want {
		t.Errorf("call = %+v\nwant %+v", c, want)
	}
	if calls[1].Status != 401 || calls[1].ClientID != "" {
		t.Errorf("401 call = %+v", calls[1])
	}

	log := e.logBuf.String()
	for _, s := range []string{`"route":"/open-banking/v3.1/aisp/accounts/{AccountId}/balances"`, `"status":200`,
		`"interaction_id":"` + id + `"`, `"client_id":"tpp-1"`, `"latency_ms"`} {
		if !strings.Contains(log, s) {
			t.Errorf("access log lacks %s:\n%s", s, log)
		}
	}
	if strings.Contains(log, obtest.Acc1+"/balances") {
		t.Errorf("access log contains a raw path:\n%s", log)
	}
}
