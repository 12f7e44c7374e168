package events_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/obank/obank/events"
	"github.com/obank/obank/internal/sqlstore"
	"github.com/obank/obank/ob"
	"github.com/obank/obank/postgres/pgtest"
	"github.com/obank/obank/sqlite"
)

const (
	issuer  = "https://bank.example"
	baseURL = "https://api.bank.example"
	tppA    = "tpp-a"
)

// signer is a PS256 signer standing in for authz.KeyManager.
type signer struct{ key *rsa.PrivateKey }

var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func newSigner() signer { return signer{testKey()} }

func (s signer) SignJWT(_ context.Context, payload []byte, headers map[string]any) (string, error) {
	h := jws.NewHeaders()
	for k, v := range headers {
		if err := h.Set(k, v); err != nil {
			return "", err
		}
	}
	if err := h.Set(jws.KeyIDKey, "test-kid"); err != nil {
		return "", err
	}
	out, err := jws.Sign(payload, jws.WithKey(jwa.PS256(), s.key, jws.WithProtectedHeaders(h)))
	return string(out), err
}

// verify checks a SET's PS256 signature with the bank's public key and
// returns its claims.
func verify(t *testing.T, set string) map[string]any {
	t.Helper()
	payload, err := jws.Verify([]byte(set), jws.WithKey(jwa.PS256(), &testKey().PublicKey))
	if err != nil {
		t.Fatalf("SET signature does not verify: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

func openSQLite(t *testing.T, path string) *sqlstore.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	return s
}

func tempStore(t *testing.T) *sqlstore.Store {
	s := openSQLite(t, filepath.Join(t.TempDir(), "obank.db"))
	t.Cleanup(func() { s.Close() })
	return s
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// tppServer is a TPP's HTTPS event-notifications endpoint.
type tppServer struct {
	ts       *httptest.Server
	mu       sync.Mutex
	statuses []int // answered in order; 202 once exhausted
	received []received
}

type received struct {
	set         string
	contentType string
	interaction string
}

func newTPPServer(t *testing.T, statuses ...int) *tppServer {
	s := &tppServer{statuses: statuses}
	s.ts = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.received = append(s.received, received{string(body), r.Header.Get("Content-Type"), r.Header.Get("x-fapi-interaction-id")})
		status := http.StatusAccepted
		if len(s.statuses) > 0 {
			status, s.statuses = s.statuses[0], s.statuses[1:]
		}
		s.mu.Unlock()
		if r.URL.Path != "/tpp/v3.1/event-notifications" {
			status = http.StatusNotFound
		}
		w.Header().Set("x-fapi-interaction-id", r.Header.Get("x-fapi-interaction-id"))
		w.WriteHeader(status)
	}))
	t.Cleanup(s.ts.Close)
	return s
}

func (s *tppServer) callback() string { return s.ts.URL + "/tpp/v3.1/event-notifications" }

func (s *tppServer) got() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.received...)
}

// client trusts the TPP server's certificate and, as the flag allows,
// connects to its loopback address.
func (s *tppServer) client() *http.Client {
	tr := s.ts.Client().Transport.(*http.Transport)
	return events.NewHTTPClient(events.CallbackPolicy{AllowPrivate: true}, tr.TLSClientConfig.Clone())
}

func subscribe(t *testing.T, st events.Store, tpp, callback string, types ...string) {
	t.Helper()
	now := time.Now().UTC()
	err := st.CreateSubscription(context.Background(), events.Subscription{
		ID: uuid.NewString(), TPPID: tpp, CallbackURL: callback, Version: "3.1", EventTypes: types,
		CreatedAt: now, UpdatedAt: now,
	})
	if err != nil {
		t.Fatal(err)
	}
}

func consent(id, tpp string) ob.Consent {
	return ob.Consent{ID: id, Kind: ob.KindAccountAccess, TPPID: tpp, Status: ob.ConsentRevoked}
}

func outstanding(t *testing.T, st events.Store, tpp string) []events.Notification {
	t.Helper()
	ns, _, err := st.PendingForPolling(context.Background(), tpp, 100)
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

func TestPublicAddr(t *testing.T) {
	for _, tc := range []struct {
		addr string
		want bool
	}{
		{"8.8.8.8", true},
		{"2a00:1450:4009:81f::200e", true},
		{"127.0.0.1", false},
		{"10.1.2.3", false},
		{"172.16.0.1", false},
		{"192.168.1.1", false},
		{"169.254.169.254", false},
		{"100.64.0.1", false},
		{"0.0.0.0", false},
		{"255.255.255.255", false},
		{"224.0.0.1", false},
		{"198.51.100.7", false},
		{"::1", false},
		{"::", false},
		{"fe80::1", false},
		{"fd00::1", false},
		{"::ffff:127.0.0.1", false},
		{"::7f00:1", false}, // IPv4-compatible 127.0.0.1
		{"fec0::1", false},  // site-local
		{"::ffff:10.0.0.1", false},
		{"64:ff9b::7f00:1", false},
		{"2002:7f00:1::", false},
	} {
		if got := events.PublicAddr(netip.MustParseAddr(tc.addr)); got != tc.want {
			t.Errorf("PublicAddr(%s) = %v, want %v", tc.addr, got, tc.want)
		}
	}
}

func TestCallbackPolicy(t *testing.T) {
	ctx := context.Background()
	strict := events.CallbackPolicy{}
	lax := events.CallbackPolicy{AllowPrivate: true}
	for _, tc := range []struct {
		url    string
		policy events.CallbackPolicy
		ok     bool
	}{
		{"https://8.8.8.8/open-banking/v3.1/event-notifications", strict, true},
		{"https://8.8.8.8/v3.1.11/event-notifications", strict, true},
		{"https://8.8.8.8:8443/3.1/event-notifications", strict, true},
		{"http://8.8.8.8/v3.1/event-notifications", strict, false},
		{"https://8.8.8.8/v3.1/notifications", strict, false},
		{"https://8.8.8.8/event-notifications", strict, false},
		{"https://8.8.8.8/v3.1/event-notifications?x=1", strict, false},
		{"https://user:pw@8.8.8.8/v3.1/event-notifications", strict, false},
		{"/v3.1/event-notifications", strict, false},
		{"https://127.0.0.1/v3.1/event-notifications", strict, false},
		{"https://10.0.0.5/v3.1/event-notifications", strict, false},
		{"https://169.254.169.254/v3.1/event-notifications", strict, false},
		{"https://[::1]/v3.1/event-notifications", strict, false},
		{"https://[::ffff:127.0.0.1]/v3.1/event-notifications", strict, false},
		{"https://localhost/v3.1/event-notifications", strict, false}, // resolves to loopback
		{"https://does-not-exist.invalid/v3.1/event-notifications", strict, false},
		{"https://127.0.0.1/v3.1/event-notifications", lax, true},
		{"https://localhost:9/v3.1/event-notifications", lax, true},
		{"http://127.0.0.1/v3.1/event-notifications", lax, false},
	} {
		err := tc.policy.CheckURL(ctx, tc.url)
		if (err == nil) != tc.ok {
			t.Errorf("CheckURL(%q, AllowPrivate=%v) = %v, want ok=%v", tc.url, tc.policy.AllowPrivate, err, tc.ok)
		}
	}
}

func TestPublisherRecordsOnlySubscribedEvents(t *testing.T) {
	ctx := context.Background()
	st := tempStore(t)
	p := &events.Publisher{Store: st, Issuer: issuer, BaseURL: baseURL}
	subscribe(t, st, "tpp-push", "https://8.8.8.8/v3.1/event-notifications")
	subscribe(t, st, "tpp-poll", "")
	subscribe(t, st, "tpp-other", "", events.TypeResourceUpdate)

	for _, tpp := range []string{"tpp-push", "tpp-poll", "tpp-other", "tpp-none"} {
		if err := p.ConsentAuthorizationRevoked(ctx, consent("c-"+tpp, tpp)); err != nil {
			t.Fatalf("publish for %s: %v", tpp, err)
		}
	}
	// The TPP's own DELETE raises nothing.
	deleted := consent("c-deleted", "tpp-poll")
	deleted.DeletedAt = new(time.Now())
	if err := p.ConsentRevoked(ctx, deleted); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		tpp    string
		status events.Status // "" = no event
	}{
		{"tpp-push", events.StatusPending},
		{"tpp-poll", events.StatusPolling},
		{"tpp-other", ""},
		{"tpp-none", ""},
	} {
		ns := outstanding(t, st, tc.tpp)
		switch {
		case tc.status == "" && len(ns) != 0:
			t.Errorf("%s: %d events recorded, want none", tc.tpp, len(ns))
		case tc.status != "" && (len(ns) != 1 || ns[0].Status != tc.status):
			t.Errorf("%s: events %+v, want one %s", tc.tpp, ns, tc.status)
		}
	}
	// A revoked funds-confirmation consent changed status: the CBPII
	// specification wants a resource-update besides the revocation.
	fc := consent("fcc-1", "tpp-cbpii")
	fc.Kind = ob.KindFundsConfirmation
	subscribe(t, st, "tpp-cbpii", "")
	if err := p.ConsentAuthorizationRevoked(ctx, fc); err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, n := range outstanding(t, st, "tpp-cbpii") {
		types = append(types, n.EventType)
	}
	slices.Sort(types)
	if want := []string{events.TypeConsentAuthorizationRevoked, events.TypeResourceUpdate}; !slices.Equal(types, want) {
		t.Errorf("funds-confirmation revocation raised %v, want %v", types, want)
	}
	if err := p.AccountAccessConsentLinkedAccountUpdate(ctx, consent("c1", "tpp-poll"), "Closed"); err == nil {
		t.Error("linked-account update with an unknown reason was accepted")
	}
}

// TestDeliverSignedSET pushes one event to an HTTPS TPP and checks what it
// receives: a SET signed by the bank's key with the OBIE claims.
func TestDeliverSignedSET(t *testing.T) {
	ctx := context.Background()
	st := tempStore(t)
	tpp := newTPPServer(t)
	subscribe(t, st, tppA, tpp.callback())
	clk := newClock()
	p := &events.Publisher{Store: st, Issuer: issuer, BaseURL: baseURL, Now: clk.Now}
	if err := p.ConsentAuthorizationRevoked(ctx, consent("aac-1", tppA)); err != nil {
		t.Fatal(err)
	}
	jti := outstanding(t, st, tppA)[0].JTI
	d := &events.Deliverer{Store: st, Keys: newSigner(), HTTPClient: tpp.client(), Now: clk.Now, FinancialID: "0015800001041RHAAY"}
	if n, err := d.Once(ctx); n != 1 || err != nil {
		t.Fatalf("Once = %d, %v; want 1, nil", n, err)
	}
	got := tpp.got()
	if len(got) != 1 {
		t.Fatalf("TPP received %d requests, want 1", len(got))
	}
	if got[0].contentType != "application/jwt" {
		t.Errorf("Content-Type = %q, want application/jwt", got[0].contentType)
	}
	if _, err := uuid.Parse(got[0].interaction); err != nil {
		t.Errorf("x-fapi-interaction-id = %q, want a UUID", got[0].interaction)
	}
	claims := verify(t, got[0].set)
	link := baseURL + "/open-banking/v3.1/aisp/account-access-consents/aac-1"
	want := map[string]any{
		"iss": issuer, "jti": jti, "aud": tppA, "sub": link,
		"iat": float64(clk.Now().Unix()), "toe": float64(clk.Now().Unix()),
		"events": map[string]any{
			"urn:uk:org:openbanking:events:consent-authorization-revoked": map[string]any{
				"subject": map[string]any{
					"subject_type":                  "http://openbanking.org.uk/rid_http://openbanking.org.uk/rty",
					"http://openbanking.org.uk/rid": "aac-1",
					"http://openbanking.org.uk/rty": "account-access-consent",
					"http://openbanking.org.uk/rlk": []any{map[string]any{"version": "v3.1", "link": link}},
				},
			},
		},
	}
	txn, _ := claims["txn"].(string)
	if txn == "" {
		t.Error("SET has no txn")
	}
	delete(claims, "txn")
	if fmt.Sprint(want) != fmt.Sprint(claims) {
		t.Errorf("SET claims = %v\nwant %v", claims, want)
	}
	hdr, err := jws.Parse([]byte(got[0].set))
	if err != nil {
		t.Fatal(err)
	}
	if alg, _ := hdr.Signatures()[0].ProtectedHeaders().Algorithm(); alg.String() != "PS256" {
		t.Errorf("alg = %v, want PS256", alg)
	}
	n, err := st.Notification(ctx, jti)
	if err != nil || n.Status != events.StatusDelivered || n.Attempts != 0 {
		t.Errorf("after delivery: %+v, %v; want delivered", n, err)
	}
	// Delivered events are not served by polling again.
	if ns := outstanding(t, st, tppA); len(ns) != 0 {
		t.Errorf("delivered event still outstanding: %v", ns)
	}
}

// TestDeliverRetries: the TPP fails twice, then accepts; the waits between
// attempts grow, and every attempt carries the same jti.
func TestDeliverRetries(t *testing.T) {
	ctx := context.Background()
	st := tempStore(t)
	tpp := newTPPServer(t, 500, 503)
	subscribe(t, st, tppA, tpp.callback())
	clk := newClock()
	p := &events.Publisher{Store: st, Issuer: issuer, BaseURL: baseURL, Now: clk.Now}
	if err := p.ResourceUpdate(ctx, tppA, "pmt-1", "domestic-payment", baseURL+"/open-banking/v3.1/pisp/domestic-payments/pmt-1"); err != nil {
		t.Fatal(err)
	}
	jti := outstanding(t, st, tppA)[0].JTI
	d := &events.Deliverer{Store: st, Keys: newSigner(), HTTPClient: tpp.client(), Now: clk.Now,
		BaseBackoff: time.Minute, MaxBackoff: time.Hour, MaxAttempts: 5}

	var gaps []time.Duration
	for attempt := 1; attempt <= 2; attempt++ {
		if n, err := d.Once(ctx); n != 1 || err != nil {
			t.Fatalf("attempt %d: Once = %d, %v", attempt, n, err)
		}
		row, _ := st.Notification(ctx, jti)
		if row.Status != events.StatusPending || row.Attempts != attempt {
			t.Fatalf("after failed attempt %d: %+v", attempt, row)
		}
		gap := row.NextAttemptAt.Sub(clk.Now())
		gaps = append(gaps, gap)
		// Not retried before its time.
		clk.Set(row.NextAttemptAt.Add(-time.Second))
		if n, _ := d.Once(ctx); n != 0 {
			t.Fatalf("retried %d before its next attempt", attempt)
		}
		clk.Set(row.NextAttemptAt)
	}
	if gaps[0] < 30*time.Second || gaps[0] > time.Minute || gaps[1] < gaps[0] || gaps[1] > 2*time.Minute {
		t.Errorf("backoff gaps = %v; want the first in [30s, 1m] and the second in [first, 2m]", gaps)
	}
	if n, err := d.Once(ctx); n != 1 || err != nil {
		t.Fatalf("third attempt: Once = %d, %v", n, err)
	}
	if row, _ := st.Notification(ctx, jti); row.Status != events.StatusDelivered {
		t.Errorf("after the third attempt: %+v", row)
	}
	got := tpp.got()
	if len(got) != 3 {
		t.Fatalf("TPP received %d requests, want 3", len(got))
	}
	for i, r := range got {
		if c := verify(t, r.set); c["jti"] != jti {
			t.Errorf("attempt %d jti = %v, want %s", i+1, c["jti"], jti)
		}
	}
}

// TestDeliverGivesUp: after MaxAttempts the event is Failed and left for
// polling.
func TestDeliverGivesUp(t *testing.T) {
	ctx := context.Background()
	st := tempStore(t)
	tpp := newTPPServer(t, 500, 500, 500, 500)
	subscribe(t, st, tppA, tpp.callback())
	clk := newClock()
	p := &events.Publisher{Store: st, Issuer: issuer, BaseURL: baseURL, Now: clk.Now}
	if err := p.ConsentAuthorizationRevoked(ctx, consent("aac-1", tppA)); err != nil {
		t.Fatal(err)
	}
	d := &events.Deliverer{Store: st, Keys: newSigner(), HTTPClient: tpp.client(), Now: clk.Now,
		BaseBackoff: time.Second, MaxBackoff: 2 * time.Second, MaxAttempts: 2}
	for range 4 {
		if _, err := d.Once(ctx); err != nil {
			t.Fatal(err)
		}
		clk.Set(clk.Now().Add(time.Hour))
	}
	if n := len(tpp.got()); n != 2 {
		t.Errorf("TPP received %d requests, want MaxAttempts = 2", n)
	}
	ns := outstanding(t, st, tppA)
	if len(ns) != 1 || ns[0].Status != events.StatusFailed || ns[0].LastError == "" {
		t.Fatalf("after giving up: %+v; want one failed event with its last error", ns)
	}
	svc := &events.Service{Store: st, Signer: newSigner(), Now: clk.Now}
	res, err := svc.Poll(ctx, tppA, events.PollRequest{})
	if err != nil || len(res.Sets) != 1 || res.Sets[ns[0].JTI] == "" {
		t.Fatalf("Poll after giving up = %+v, %v; want the failed event", res, err)
	}
}

// TestDeliverRefusesNonPublicAddresses: with the flag off the dialer
// refuses loopback, whether named by IP or by a host name resolving to it,
// even for a subscription stored without the subscription-time check.
func TestDeliverRefusesNonPublicAddresses(t *testing.T) {
	ctx := context.Background()
	tpp := newTPPServer(t)
	port := tpp.ts.Listener.Addr().(*net.TCPAddr).Port
	for _, cb := range []string{
		tpp.callback(), // https://127.0.0.1:port/...
		fmt.Sprintf("https://localhost:%d/tpp/v3.1/event-notifications", port),
	} {
		st := tempStore(t)
		subscribe(t, st, tppA, cb)
		p := &events.Publisher{Store: st, Issuer: issuer, BaseURL: baseURL}
		if err := p.ConsentAuthorizationRevoked(ctx, consent("aac-1", tppA)); err != nil {
			t.Fatal(err)
		}
		tr := tpp.ts.Client().Transport.(*http.Transport)
		for _, client := range []*http.Client{
			events.NewHTTPClient(events.CallbackPolicy{}, tr.TLSClientConfig.Clone()), // trusts the server: only the address check stops it
			nil, // the default client
		} {
			d := &events.Deliverer{Store: st, Keys: newSigner(), HTTPClient: client, BaseBackoff: time.Nanosecond}
			if _, err := d.Once(ctx); err != nil {
				t.Fatal(err)
			}
		}
		ns := outstanding(t, st, tppA)
		if len(ns) != 1 || ns[0].Attempts != 2 || !strings.Contains(ns[0].LastError, "non-public") {
			t.Errorf("%s: %+v; want two refused attempts", cb, ns)
		}
	}
	if n := len(tpp.got()); n != 0 {
		t.Errorf("the TPP server at a loopback address received %d requests", n)
	}
}

// TestNoEventLostAcrossRestart: an event published before a stop is
// delivered by the deliverer of the next start; one claimed by a deliverer
// that died mid-push is redelivered, with the same jti, once its lease
// runs out.
func TestNoEventLostAcrossRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "obank.db")
	tpp := newTPPServer(t)
	clk := newClock()

	st := openSQLite(t, path)
	subscribe(t, st, tppA, tpp.callback())
	p := &events.Publisher{Store: st, Issuer: issuer, BaseURL: baseURL, Now: clk.Now}
	for _, id := range []string{"aac-1", "aac-2"} {
		if err := p.ConsentAuthorizationRevoked(ctx, consent(id, tppA)); err != nil {
			t.Fatal(err)
		}
	}
	// A deliverer claims both, then the process dies before pushing.
	lease := time.Minute
	claimed, err := st.ClaimNotifications(ctx, clk.Now(), lease, 1)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %v, %v", claimed, err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st = openSQLite(t, path)
	defer st.Close()
	d := &events.Deliverer{Store: st, Keys: newSigner(), HTTPClient: tpp.client(), Now: clk.Now, Lease: lease}
	if _, err := d.Once(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(tpp.got()); n != 1 {
		t.Fatalf("after restart: TPP received %d, want the unclaimed event", n)
	}
	clk.Set(clk.Now().Add(lease))
	if _, err := d.Once(ctx); err != nil {
		t.Fatal(err)
	}
	got := tpp.got()
	if len(got) != 2 {
		t.Fatalf("after the lease: TPP received %d, want both events", len(got))
	}
	if jti := verify(t, got[1].set)["jti"]; jti != claimed[0].JTI {
		t.Errorf("redelivered jti = %v, want the claimed event's %s", jti, claimed[0].JTI)
	}
	if ns := outstanding(t, st, tppA); len(ns) != 0 {
		t.Errorf("events still outstanding: %v", ns)
	}
}

// TestConcurrentDeliverersPostgres runs two deliverers on one PostgreSQL
// outbox: each event reaches the TPP exactly once.
func TestConcurrentDeliverersPostgres(t *testing.T) {
	ctx := context.Background()
	st := pgtest.OpenTestStore(t)
	tpp := newTPPServer(t)
	subscribe(t, st, tppA, tpp.callback())
	p := &events.Publisher{Store: st, Issuer: issuer, BaseURL: baseURL}
	const total = 30
	for i := range total {
		if err := p.ConsentAuthorizationRevoked(ctx, consent(fmt.Sprintf("aac-%d", i), tppA)); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for range 2 {
		d := &events.Deliverer{Store: st, Keys: newSigner(), HTTPClient: tpp.client(), Batch: 3}
		wg.Go(func() {
			for {
				n, err := d.Once(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				if n == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
	seen := map[any]int{}
	for _, r := range tpp.got() {
		seen[verify(t, r.set)["jti"]]++
	}
	if len(seen) != total {
		t.Errorf("%d distinct events delivered, want %d", len(seen), total)
	}
	for jti, n := range seen {
		if n != 1 {
			t.Errorf("event %v delivered %d times", jti, n)
		}
	}
}

func TestPoll(t *testing.T) {
	ctx := context.Background()
	st := tempStore(t)
	subscribe(t, st, tppA, "")
	subscribe(t, st, "tpp-b", "")
	clk := newClock()
	p := &events.Publisher{Store: st, Issuer: issuer, BaseURL: baseURL, Now: clk.Now}
	var ids []string
	for i := range 5 {
		clk.Set(clk.Now().Add(time.Second))
		if err := p.ConsentAuthorizationRevoked(ctx, consent(fmt.Sprintf("aac-%d", i), tppA)); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.ConsentAuthorizationRevoked(ctx, consent("aac-b", "tpp-b")); err != nil {
		t.Fatal(err)
	}
	for _, n := range outstanding(t, st, tppA) {
		ids = append(ids, n.JTI)
	}
	svc := &events.Service{Store: st, Signer: newSigner(), Now: clk.Now}
	ptr := func(n int) *int { return &n }

	res, err := svc.Poll(ctx, tppA, events.PollRequest{MaxEvents: ptr(2)})
	if err != nil || len(res.Sets) != 2 || !res.MoreAvailable || res.Sets[ids[0]] == "" || res.Sets[ids[1]] == "" {
		t.Fatalf("first poll = %v, %v; want the two oldest and moreAvailable", res, err)
	}
	if c := verify(t, res.Sets[ids[0]]); c["jti"] != ids[0] || c["aud"] != tppA {
		t.Errorf("polled SET claims = %v", c)
	}
	// Ack only (maxEvents 0), with another TPP's jti ignored.
	other := outstanding(t, st, "tpp-b")[0].JTI
	res, err = svc.Poll(ctx, tppA, events.PollRequest{MaxEvents: ptr(0), Ack: []string{ids[0], ids[1], other}})
	if err != nil || len(res.Sets) != 0 || !res.MoreAvailable {
		t.Fatalf("ack-only poll = %v, %v", res, err)
	}
	res, err = svc.Poll(ctx, tppA, events.PollRequest{
		SetErrs: map[string]events.SETError{ids[2]: {Err: "jwtIss", Description: "unknown issuer"}},
	})
	if err != nil || len(res.Sets) != 2 || res.MoreAvailable || res.Sets[ids[3]] == "" || res.Sets[ids[4]] == "" {
		t.Fatalf("poll after setErrs = %v, %v; want the last two", res, err)
	}
	if n, _ := st.Notification(ctx, ids[2]); n.Status != events.StatusRejected || n.SetErr != "jwtIss" {
		t.Errorf("rejected event: %+v", n)
	}
	if len(outstanding(t, st, "tpp-b")) != 1 {
		t.Error("tpp-a acknowledged tpp-b's event")
	}
	for _, bad := range []events.PollRequest{
		{MaxEvents: ptr(-1)},
		{SetErrs: map[string]events.SETError{"x": {Err: "", Description: "d"}}},
		{Ack: []string{""}},
	} {
		if _, err := svc.Poll(ctx, tppA, bad); !strings.HasPrefix(ob.ErrorCode(err), "UK.OBIE.Field.") {
			t.Errorf("Poll(%+v) err = %v, want a UK.OBIE.Field error", bad, err)
		}
	}
}

func TestSubscriptionValidation(t *testing.T) {
	ctx := context.Background()
	st := tempStore(t)
	svc := &events.Service{Store: st}
	for _, tc := range []struct {
		in   events.SubscriptionInput
		code string
	}{
		{events.SubscriptionInput{Version: ""}, ob.CodeFieldMissing},
		{events.SubscriptionInput{Version: "12345678901"}, ob.CodeFieldInvalid},
		{events.SubscriptionInput{Version: "3.1", EventTypes: []string{"UK.OBIE.Nope"}}, events.CodeUnsupportedEventType},
		{events.SubscriptionInput{Version: "3.1", CallbackURL: "https://127.0.0.1/v3.1/event-notifications"}, ob.CodeFieldInvalid},
		{events.SubscriptionInput{Version: "3.1", CallbackURL: "https://10.0.0.1/v3.1/event-notifications"}, ob.CodeFieldInvalid},
		{events.SubscriptionInput{Version: "3.1", CallbackURL: "https://169.254.169.254/v3.1/event-notifications"}, ob.CodeFieldInvalid},
		{events.SubscriptionInput{Version: "3.1", CallbackURL: "https://[::1]/v3.1/event-notifications"}, ob.CodeFieldInvalid},
		{events.SubscriptionInput{Version: "3.1", CallbackURL: "https://localhost/v3.1/event-notifications"}, ob.CodeFieldInvalid},
		{events.SubscriptionInput{Version: "3.1", CallbackURL: "http://8.8.8.8/v3.1/event-notifications"}, ob.CodeFieldInvalid},
	} {
		_, err := svc.Create(ctx, tppA, tc.in)
		if got := ob.ErrorCode(err); got != tc.code {
			t.Errorf("Create(%+v) code = %q, want %q (%v)", tc.in, got, tc.code, err)
		}
	}
	if _, err := svc.Create(ctx, tppA, events.SubscriptionInput{Version: "3.1",
		CallbackURL: "https://8.8.8.8/v3.1/event-notifications"}); err != nil {
		t.Fatalf("Create(public IP): %v", err)
	}
	if _, err := svc.Create(ctx, tppA, events.SubscriptionInput{Version: "3.1"}); ob.ErrorCode(err) != ob.CodeRulesResourceAlreadyExists {
		t.Errorf("second Create: err = %v, want %s", err, ob.CodeRulesResourceAlreadyExists)
	}
}
