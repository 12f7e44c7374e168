package obtest

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/obank/obank/ob"
	"github.com/obank/obank/web/webstore"
)

// WebStore is what the web contract suite needs: the records of the
// customer's pages and the bank store beside them (customers with their
// second factor, the API-call log).
type WebStore interface {
	webstore.Store
	ob.Store
}

// RunWebStoreTests runs the webstore.Store contract suite. open must return
// a fresh, empty store for each call.
//
// Besides round trips it holds backends to the guarantees the login pages
// rest on under concurrency: every one of many simultaneous failed logins
// is counted, and of many simultaneous uses of one TOTP code exactly one is
// accepted.
func RunWebStoreTests(t *testing.T, open func(t *testing.T) WebStore) {
	t.Run("TOTPSecretRoundTrip", func(t *testing.T) { testTOTPSecretRoundTrip(t, open(t)) })
	t.Run("WebSessions", func(t *testing.T) { testWebSessions(t, open(t)) })
	t.Run("LoginThrottle", func(t *testing.T) { testLoginThrottle(t, open(t)) })
	t.Run("TOTPSteps", func(t *testing.T) { testTOTPSteps(t, open(t)) })
	t.Run("Audit", func(t *testing.T) { testAudit(t, open(t)) })
	t.Run("LastAPICall", func(t *testing.T) { testLastAPICall(t, open(t)) })
}

func testTOTPSecretRoundTrip(t *testing.T, s WebStore) {
	ctx := context.Background()
	c := ob.Customer{ID: "cust-totp", Username: "tina", PasswordHash: "$2a$04$x", TOTPSecret: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
		PartyType: "Sole", Name: "Tina", CreatedAt: FixtureTime()}
	MustImport(t, s, &ob.BankData{Customers: []ob.Customer{c}})
	got, err := s.CustomerByUsername(ctx, "tina")
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "CustomerByUsername(tina)", c, got)
}

func testWebSessions(t *testing.T, s WebStore) {
	ctx := context.Background()
	now := FixtureTime()
	ws := webstore.Session{ID: "h-1", Purpose: webstore.PurposeAuthorize, AuthSessionID: "as-1", CSRF: "csrf-1",
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(10 * time.Minute)}
	if err := s.CreateWebSession(ctx, ws); err != nil {
		t.Fatalf("CreateWebSession: %v", err)
	}
	wantCode(t, "CreateWebSession(same id)", s.CreateWebSession(ctx, ws), ob.CodeConflict)
	got, err := s.WebSession(ctx, "h-1")
	if err != nil {
		t.Fatalf("WebSession: %v", err)
	}
	diff(t, "WebSession(h-1)", ws, got)

	later := now.Add(time.Minute)
	ws.CustomerID, ws.PasswordAt, ws.SCAAt = "cust-1", &later, &later
	ws.LastSeenAt, ws.ExpiresAt = later, later.Add(10*time.Minute)
	if err := s.UpdateWebSession(ctx, ws); err != nil {
		t.Fatalf("UpdateWebSession: %v", err)
	}
	got, err = s.WebSession(ctx, "h-1")
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "WebSession(h-1) after update", ws, got)

	_, err = s.WebSession(ctx, "nope")
	wantCode(t, "WebSession(unknown)", err, ob.CodeResourceNotFound)
	wantCode(t, "UpdateWebSession(unknown)", s.UpdateWebSession(ctx, webstore.Session{ID: "nope"}), ob.CodeResourceNotFound)

	// Purge removes only what expired.
	old := webstore.Session{ID: "h-old", Purpose: webstore.PurposeDashboard, CSRF: "c", CreatedAt: now, LastSeenAt: now, ExpiresAt: now}
	if err := s.CreateWebSession(ctx, old); err != nil {
		t.Fatal(err)
	}
	n, err := s.PurgeWebSessions(ctx, now.Add(time.Second))
	if err != nil || n != 1 {
		t.Errorf("PurgeWebSessions = %d, %v; want 1, nil", n, err)
	}
	if _, err := s.WebSession(ctx, "h-1"); err != nil {
		t.Errorf("WebSession(h-1) after purge: %v", err)
	}
	if err := s.DeleteWebSession(ctx, "h-1"); err != nil {
		t.Fatal(err)
	}
	_, err = s.WebSession(ctx, "h-1")
	wantCode(t, "WebSession after delete", err, ob.CodeResourceNotFound)
	if err := s.DeleteWebSession(ctx, "h-1"); err != nil {
		t.Errorf("DeleteWebSession(gone): %v", err)
	}
}

func testLoginThrottle(t *testing.T, s WebStore) {
	ctx := context.Background()
	now := FixtureTime()
	l, err := s.LoginThrottle(ctx, "alice", now)
	if err != nil || l.Failures != 0 || l.LockedUntil != nil {
		t.Fatalf("LoginThrottle(new) = %+v, %v; want zero", l, err)
	}
	for i := 1; i <= 4; i++ {
		l, err = s.RecordLoginFailure(ctx, "alice", now, 5, 15*time.Minute)
		if err != nil || l.Failures != i || l.Locked(now) {
			t.Fatalf("failure %d = %+v, %v; want %d failures, not locked", i, l, err, i)
		}
	}
	if err := s.ClearLoginFailures(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 5; i++ {
		l, err = s.RecordLoginFailure(ctx, "alice", now, 5, 15*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
	}
	if !l.Locked(now) || !l.LockedUntil.Equal(now.Add(15*time.Minute)) {
		t.Fatalf("after 5 failures: %+v; want locked until now+15m", l)
	}
	got, err := s.LoginThrottle(ctx, "alice", now)
	if err != nil || !got.Locked(now.Add(14*time.Minute)) || got.Locked(now.Add(15*time.Minute)) {
		t.Errorf("LoginThrottle(alice) = %+v, %v; want locked for 15 minutes", got, err)
	}
	// A success does not lift the lock.
	if err := s.ClearLoginFailures(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.LoginThrottle(ctx, "alice", now); !got.Locked(now) {
		t.Error("ClearLoginFailures lifted the lock")
	}
	// Other usernames are unaffected.
	if got, _ := s.LoginThrottle(ctx, "bob", now); got.Locked(now) || got.Failures != 0 {
		t.Errorf("LoginThrottle(bob) = %+v", got)
	}

	// Concurrent failures are all counted.
	const n = 4
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if _, err := s.RecordLoginFailure(ctx, "carol", now, 100, time.Minute); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got, _ := s.LoginThrottle(ctx, "carol", now); got.Failures != n {
		t.Errorf("after %d concurrent failures: Failures = %d", n, got.Failures)
	}

	// A failure counts for LoginFailureWindow after it: the next failure
	// within the window adds to the count, one after it starts the count
	// again, and LoginThrottle reads the count as the next failure would.
	window := webstore.LoginFailureWindow
	for _, tc := range []struct {
		name  string
		after time.Duration // from the last failure
		read  int           // Failures read just before the next failure
		want  int           // Failures after it
	}{
		{"within the window", time.Hour, 3, 4},
		{"at its end", window, 3, 4},
		{"after it", window + time.Microsecond, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			user := "dave-" + strings.ReplaceAll(tc.name, " ", "-")
			for range 3 {
				if _, err := s.RecordLoginFailure(ctx, user, now, 5, time.Minute); err != nil {
					t.Fatal(err)
				}
			}
			next := now.Add(tc.after)
			if got, err := s.LoginThrottle(ctx, user, next); err != nil || got.Failures != tc.read {
				t.Errorf("LoginThrottle %v after the last failure = %+v, %v; want %d failures", tc.after, got, err, tc.read)
			}
			l, err := s.RecordLoginFailure(ctx, user, next, 5, time.Minute)
			if err != nil || l.Failures != tc.want || l.Locked(next) {
				t.Errorf("a failure %v after the last = %+v, %v; want %d failures, not locked", tc.after, l, err, tc.want)
			}
		})
	}
	// A lock still locks after the window: only the count lapses.
	l, err = s.RecordLoginFailure(ctx, "erin", now, 1, 2*window)
	if err != nil || !l.Locked(now) {
		t.Fatalf("a failure locking erin = %+v, %v", l, err)
	}
	if got, _ := s.LoginThrottle(ctx, "erin", now.Add(window+time.Hour)); !got.Locked(now.Add(window + time.Hour)) {
		t.Errorf("LoginThrottle(erin) a window later = %+v, want still locked", got)
	}
}

func testTOTPSteps(t *testing.T, s WebStore) {
	ctx := context.Background()
	steps := []struct {
		step int64
		want bool
	}{
		{100, true},  // first use
		{100, false}, // replay
		{99, false},  // an older code after a newer one
		{101, true},  // the next step
	}
	for _, st := range steps {
		got, err := s.UseTOTPStep(ctx, "cust-1", st.step)
		if err != nil || got != st.want {
			t.Errorf("UseTOTPStep(cust-1, %d) = %v, %v; want %v", st.step, got, err, st.want)
		}
	}
	if ok, err := s.UseTOTPStep(ctx, "cust-2", 100); err != nil || !ok {
		t.Errorf("UseTOTPStep(cust-2, 100) = %v, %v; want true (per customer)", ok, err)
	}
	// Of many simultaneous uses of one code, exactly one wins.
	const n = 8
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	for range n {
		wg.Go(func() {
			ok, err := s.UseTOTPStep(ctx, "cust-3", 500)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("concurrent UseTOTPStep: %d accepted, want 1", wins)
	}
}

func testAudit(t *testing.T, s WebStore) {
	ctx := context.Background()
	now := FixtureTime()
	es := []webstore.AuditEvent{
		{ID: "ev-1", At: now, Kind: webstore.AuditConsentRevoked, CustomerID: "cust-1", ConsentID: "aac-1", ClientID: "cl-1", Detail: "revoked from the dashboard"},
		{ID: "ev-2", At: now.Add(time.Second), Kind: webstore.AuditConsentAuthorised, CustomerID: "cust-1", ConsentID: "aac-2", ClientID: "cl-1"},
		{ID: "ev-3", At: now, Kind: webstore.AuditConsentRevoked, CustomerID: "cust-2", ConsentID: "aac-3", ClientID: "cl-1"},
	}
	for _, e := range es {
		if err := s.RecordAudit(ctx, e); err != nil {
			t.Fatalf("RecordAudit(%s): %v", e.ID, err)
		}
	}
	wantCode(t, "RecordAudit(same id)", s.RecordAudit(ctx, es[0]), ob.CodeConflict)
	got, err := s.AuditEvents(ctx, "cust-1")
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "AuditEvents(cust-1)", es[:2], got)
}

func testLastAPICall(t *testing.T, s WebStore) {
	ctx := context.Background()
	now := FixtureTime()
	if at, err := s.LastAPICall(ctx, "aac-1"); err != nil || at != nil {
		t.Fatalf("LastAPICall(no calls) = %v, %v; want nil, nil", at, err)
	}
	call := func(grant string, at time.Time) ob.APICall {
		return ob.APICall{InteractionID: "i-" + at.String(), ClientID: "cl-1", GrantID: grant, Method: "GET",
			Route: "GET /accounts", Status: 200, At: at}
	}
	err := s.RecordAPICalls(ctx, []ob.APICall{
		call("aac-1", now), call("aac-1", now.Add(2*time.Minute)), call("aac-1", now.Add(time.Minute)),
		call("aac-2", now.Add(time.Hour)),
	})
	if err != nil {
		t.Fatal(err)
	}
	at, err := s.LastAPICall(ctx, "aac-1")
	if err != nil || at == nil || !at.Equal(now.Add(2*time.Minute).Truncate(time.Microsecond)) {
		t.Errorf("LastAPICall(aac-1) = %v, %v; want %v", at, err, now.Add(2*time.Minute))
	}
}
