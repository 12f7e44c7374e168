package obtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/obank/obank/ob"
)

// ConsentStore is what the consent contract suite needs: the consent store
// and the stores beside it whose grants and tokens a consent's transitions
// create and revoke.
type ConsentStore interface {
	OAuthStore
	ob.ConsentStore
}

// RunConsentStoreTests runs the ob.ConsentStore contract suite. open must
// return a fresh, empty store for each call.
func RunConsentStoreTests(t *testing.T, open func(t *testing.T) ConsentStore) {
	t.Run("RoundTrip", func(t *testing.T) { testConsentRoundTrip(t, open(t)) })
	t.Run("Transitions", func(t *testing.T) { testConsentTransitions(t, open(t)) })
	t.Run("GrantLifecycle", func(t *testing.T) { testConsentGrantLifecycle(t, open(t)) })
	t.Run("ByCustomer", func(t *testing.T) { testConsentsByCustomer(t, open(t)) })
	t.Run("Expire", func(t *testing.T) { testExpireConsents(t, open(t)) })
	t.Run("ConcurrentSweepers", func(t *testing.T) { testConcurrentSweepers(t, open(t)) })
	t.Run("ConcurrentUpdates", func(t *testing.T) { testConcurrentConsentUpdates(t, open(t)) })
}

// NewConsent returns an AwaitingAuthorisation account-access consent of
// tppID created at `at`, expiring a day later, for tests.
func NewConsent(id, tppID string, at time.Time) ob.Consent {
	exp := at.Add(24 * time.Hour)
	return ob.Consent{
		ID: id, Kind: ob.KindAccountAccess, TPPID: tppID, Status: ob.ConsentAwaitingAuthorisation,
		CreationDateTime: at, StatusUpdateDateTime: at,
		Permissions:        ob.Permissions{ob.ReadAccountsDetail, ob.ReadBalances},
		ExpirationDateTime: &exp,
	}
}

func mustCreateConsent(t *testing.T, s ConsentStore, c ob.Consent) {
	t.Helper()
	if err := s.CreateConsent(context.Background(), c); err != nil {
		t.Fatalf("CreateConsent(%s): %v", c.ID, err)
	}
}

func mustConsent(t *testing.T, s ConsentStore, id string) ob.Consent {
	t.Helper()
	c, err := s.Consent(context.Background(), id)
	if err != nil {
		t.Fatalf("Consent(%s): %v", id, err)
	}
	return c
}

// mustAuthorise authorises consent id for Alice's first two accounts.
func mustAuthorise(t *testing.T, s ConsentStore, id string, at time.Time) ob.Consent {
	t.Helper()
	c, err := s.UpdateConsent(context.Background(), id, at, func(c *ob.Consent) error {
		return c.Authorise(Alice, []string{Acc1, Acc2}, at)
	})
	if err != nil {
		t.Fatalf("UpdateConsent(%s, Authorise): %v", id, err)
	}
	return c
}

func testConsentRoundTrip(t *testing.T, s ConsentStore) {
	ctx := context.Background()
	base := FixtureTime()
	full := ob.Consent{
		ID: "pdc-full", Kind: ob.KindDomesticPayment, TPPID: "tpp-1", Status: ob.ConsentAuthorised,
		CreationDateTime: base, StatusUpdateDateTime: base.Add(time.Minute),
		Permissions:        ob.Permissions{ob.ReadAccountsBasic, ob.ReadTransactionsDetail, ob.ReadTransactionsCredits},
		ExpirationDateTime: ptr(base.Add(48 * time.Hour)),
		TransactionFrom:    ptr(base.AddDate(-1, 0, 0)),
		TransactionTo:      ptr(base.AddDate(0, 1, 0)),
		CustomerID:         Alice,
		AccountIDs:         []string{Acc2, Acc1},
		DeletedAt:          ptr(base.Add(time.Hour)),
		// Not valid UTF-8 on purpose: the payload is bytes.
		Payload: []byte("{\"Initiation\":{}}\xff\x00"),
	}
	minimal := NewConsent("aac-min", "tpp-2", base)
	minimal.ExpirationDateTime = nil
	for _, c := range []ob.Consent{full, minimal} {
		mustCreateConsent(t, s, c)
		got := mustConsent(t, s, c.ID)
		diff(t, "Consent("+c.ID+")", c, got)
		checkUTC(t, "Consent", got)
	}
	wantCode(t, "CreateConsent(duplicate)", s.CreateConsent(ctx, minimal), ob.CodeConflict)
	_, err := s.Consent(ctx, "aac-unknown")
	wantCode(t, "Consent(unknown)", err, ob.CodeResourceNotFound)
	_, err = s.UpdateConsent(ctx, "aac-unknown", base, func(*ob.Consent) error { return nil })
	wantCode(t, "UpdateConsent(unknown)", err, ob.CodeResourceNotFound)
}

func testConsentTransitions(t *testing.T, s ConsentStore) {
	ctx := context.Background()
	base := FixtureTime()
	at := base.Add(time.Minute)

	// Rejection: no grant.
	mustCreateConsent(t, s, NewConsent("aac-rej", "tpp-1", base))
	got, err := s.UpdateConsent(ctx, "aac-rej", at, func(c *ob.Consent) error { return c.Reject(at) })
	if err != nil {
		t.Fatalf("UpdateConsent(Reject): %v", err)
	}
	if got.Status != ob.ConsentRejected || !got.StatusUpdateDateTime.Equal(at) {
		t.Errorf("after Reject: %s at %v, want Rejected at %v", got.Status, got.StatusUpdateDateTime, at)
	}
	diff(t, "stored after Reject", got, mustConsent(t, s, "aac-rej"))
	if _, err := s.AccessGrant(ctx, "aac-rej"); !ob.IsNotFound(err) {
		t.Errorf("AccessGrant of a rejected consent: err = %v, want not found", err)
	}

	// Illegal moves: the change's own error comes back unchanged and
	// nothing the change did before failing is written.
	illegal := []struct {
		name   string
		id     string
		change func(c *ob.Consent) error
	}{
		{"authorise rejected", "aac-rej", func(c *ob.Consent) error {
			c.CustomerID = "mallory"
			return c.Authorise(Alice, []string{Acc1}, at)
		}},
		{"revoke rejected", "aac-rej", func(c *ob.Consent) error { return c.Revoke(at) }},
		{"reject twice", "aac-rej", func(c *ob.Consent) error {
			c.AccountIDs = append(c.AccountIDs, "acc-x")
			return c.Reject(at)
		}},
	}
	for _, tc := range illegal {
		t.Run(tc.name, func(t *testing.T) {
			before := mustConsent(t, s, tc.id)
			var changeErr error
			_, err := s.UpdateConsent(ctx, tc.id, at.Add(time.Minute), func(c *ob.Consent) error {
				changeErr = tc.change(c)
				return changeErr
			})
			if err == nil || err != changeErr {
				t.Errorf("UpdateConsent = %v, want the change's error %v unchanged", err, changeErr)
			}
			wantCode(t, "UpdateConsent", err, ob.CodeResourceInvalidConsentStatus)
			diff(t, "stored after a refused change", before, mustConsent(t, s, tc.id))
		})
	}

	// Authorising an expired consent is refused the same way.
	expired := NewConsent("aac-expired", "tpp-1", base)
	expired.ExpirationDateTime = ptr(base.Add(time.Second))
	mustCreateConsent(t, s, expired)
	_, err = s.UpdateConsent(ctx, expired.ID, at, func(c *ob.Consent) error {
		return c.Authorise(Alice, []string{Acc1}, at)
	})
	wantCode(t, "Authorise(expired)", err, ob.CodeResourceInvalidConsentStatus)
	if _, err := s.AccessGrant(ctx, expired.ID); !ob.IsNotFound(err) {
		t.Errorf("AccessGrant after a refused authorisation: err = %v, want not found", err)
	}

	// A change may not move the consent to another id.
	_, err = s.UpdateConsent(ctx, expired.ID, at, func(c *ob.Consent) error { c.ID = "aac-other"; return nil })
	if err == nil {
		t.Error("UpdateConsent changing the id succeeded")
	}
}

func testConsentGrantLifecycle(t *testing.T, s ConsentStore) {
	ctx := context.Background()
	base := FixtureTime()
	auth := base.Add(time.Minute)
	c := NewConsent("aac-1", "tpp-1", base)
	c.TransactionFrom, c.TransactionTo = ptr(base.AddDate(0, -3, 0)), ptr(base)
	mustCreateConsent(t, s, c)
	got := mustAuthorise(t, s, c.ID, auth)
	if got.Status != ob.ConsentAuthorised || got.CustomerID != Alice || !slices.Equal(got.AccountIDs, []string{Acc1, Acc2}) {
		t.Fatalf("after Authorise: %+v", got)
	}
	diff(t, "stored after Authorise", got, mustConsent(t, s, c.ID))
	g, err := s.AccessGrant(ctx, c.ID)
	if err != nil {
		t.Fatalf("AccessGrant after authorisation: %v", err)
	}
	diff(t, "grant of the authorised consent", got.Grant(), g)

	// Tokens bound to the grant, and a client-credentials token of the
	// same TPP that must survive.
	a, r := tokenPair("c1", "tpp-1", c.ID, "fam-c1")
	mustIssue(t, s, a, &r)
	cc := clientCredentials("c1", "tpp-1")
	mustIssue(t, s, cc, nil)

	// A change that leaves the status alone keeps the grant as it is.
	if _, err := s.UpdateConsent(ctx, c.ID, auth.Add(time.Second), func(*ob.Consent) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if g, _ := s.AccessGrant(ctx, c.ID); g.RevokedAt != nil {
		t.Errorf("grant revoked by a change that kept the consent authorised")
	}

	// The TPP's DELETE revokes the grant and its tokens at once.
	del := auth.Add(time.Hour)
	got, err = s.UpdateConsent(ctx, c.ID, del, func(c *ob.Consent) error { c.DeletedAt = &del; return nil })
	if err != nil {
		t.Fatalf("UpdateConsent(delete): %v", err)
	}
	if got.DeletedAt == nil || !got.DeletedAt.Equal(del) || got.Status != ob.ConsentAuthorised {
		t.Errorf("after delete: %+v, want DeletedAt %v and the status unchanged", got, del)
	}
	g, _ = s.AccessGrant(ctx, c.ID)
	if g.RevokedAt == nil || !g.RevokedAt.Equal(del) {
		t.Errorf("grant RevokedAt = %v, want %v", g.RevokedAt, del)
	}
	if at := accessRevokedAt(t, s, a.Hash); at == nil || !at.Equal(del) {
		t.Errorf("access token RevokedAt = %v, want %v", at, del)
	}
	if at := refreshRevokedAt(t, s, r.Hash); at == nil || !at.Equal(del) {
		t.Errorf("refresh token RevokedAt = %v, want %v", at, del)
	}
	if at := accessRevokedAt(t, s, cc.Hash); at != nil {
		t.Errorf("client-credentials token revoked at %v with the consent", at)
	}

	// Leaving Authorised by a transition (Revoke) revokes too.
	mustCreateConsent(t, s, NewConsent("aac-2", "tpp-1", base))
	mustAuthorise(t, s, "aac-2", auth)
	a2, r2 := tokenPair("c2", "tpp-1", "aac-2", "fam-c2")
	mustIssue(t, s, a2, &r2)
	rev := auth.Add(2 * time.Hour)
	if _, err := s.UpdateConsent(ctx, "aac-2", rev, func(c *ob.Consent) error { return c.Revoke(rev) }); err != nil {
		t.Fatal(err)
	}
	if at := accessRevokedAt(t, s, a2.Hash); at == nil || !at.Equal(rev) {
		t.Errorf("access token of a revoked consent: RevokedAt = %v, want %v", at, rev)
	}
	if at := refreshRevokedAt(t, s, r2.Hash); at == nil || !at.Equal(rev) {
		t.Errorf("refresh token of a revoked consent: RevokedAt = %v, want %v", at, rev)
	}
}

func testConsentsByCustomer(t *testing.T, s ConsentStore) {
	ctx := context.Background()
	base := FixtureTime()
	for i, id := range []string{"aac-b", "aac-a", "aac-c"} {
		mustCreateConsent(t, s, NewConsent(id, "tpp-1", base.Add(time.Duration(i)*time.Minute)))
		mustAuthorise(t, s, id, base.Add(time.Hour))
	}
	mustCreateConsent(t, s, NewConsent("aac-unauthorised", "tpp-1", base.Add(time.Hour)))
	other := NewConsent("aac-bob", "tpp-1", base.Add(time.Hour))
	mustCreateConsent(t, s, other)
	if _, err := s.UpdateConsent(ctx, other.ID, base.Add(time.Hour), func(c *ob.Consent) error {
		return c.Authorise(Bob, []string{Acc3}, base.Add(time.Hour))
	}); err != nil {
		t.Fatal(err)
	}
	got, err := s.ConsentsByCustomer(ctx, Alice)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range got {
		ids = append(ids, c.ID)
	}
	diff(t, "ConsentsByCustomer(Alice) ids, newest first", []string{"aac-c", "aac-a", "aac-b"}, ids)
	if got, err := s.ConsentsByCustomer(ctx, "nobody"); err != nil || len(got) != 0 {
		t.Errorf("ConsentsByCustomer(nobody) = %v, %v; want none", got, err)
	}
	if got, err := s.ConsentsByCustomer(ctx, ""); err != nil || len(got) != 0 {
		t.Errorf("ConsentsByCustomer(\"\") = %v, %v; want none (unauthorised consents have no customer)", got, err)
	}
}

func testExpireConsents(t *testing.T, s ConsentStore) {
	ctx := context.Background()
	base := FixtureTime()
	exp := base.Add(time.Hour)
	mk := func(id string, expires *time.Time) {
		c := NewConsent(id, "tpp-1", base)
		c.ExpirationDateTime = expires
		mustCreateConsent(t, s, c)
	}
	mk("aac-awaiting", &exp)
	mk("aac-authorised", &exp)
	mustAuthorise(t, s, "aac-authorised", base.Add(time.Minute))
	a, r := tokenPair("exp", "tpp-1", "aac-authorised", "fam-exp")
	mustIssue(t, s, a, &r)
	mk("aac-later", ptr(exp.Add(time.Second)))
	mk("aac-never", nil)
	mk("aac-rejected", &exp)
	if _, err := s.UpdateConsent(ctx, "aac-rejected", base, func(c *ob.Consent) error { return c.Reject(base) }); err != nil {
		t.Fatal(err)
	}

	// Before the expiry nothing is due.
	if got, err := s.ExpireConsents(ctx, exp.Add(-time.Microsecond), 100); err != nil || len(got) != 0 {
		t.Fatalf("ExpireConsents before expiry = %v, %v; want none", got, err)
	}
	// At the expiry instant, both live consents are due: one per call.
	now := exp
	var changed []ob.Consent
	for range 3 {
		got, err := s.ExpireConsents(ctx, now, 1)
		if err != nil {
			t.Fatalf("ExpireConsents: %v", err)
		}
		if len(got) > 1 {
			t.Fatalf("ExpireConsents(limit 1) changed %d", len(got))
		}
		changed = append(changed, got...)
	}
	status := map[string]ob.ConsentStatus{}
	for _, c := range changed {
		status[c.ID] = c.Status
		diff(t, "returned vs stored "+c.ID, c, mustConsent(t, s, c.ID))
		if !c.StatusUpdateDateTime.Equal(now) {
			t.Errorf("%s StatusUpdateDateTime = %v, want %v", c.ID, c.StatusUpdateDateTime, now)
		}
	}
	diff(t, "expired consents", map[string]ob.ConsentStatus{
		"aac-awaiting": ob.ConsentRejected, "aac-authorised": ob.ConsentExpired}, status)
	for _, id := range []string{"aac-later", "aac-never"} {
		if c := mustConsent(t, s, id); c.Status != ob.ConsentAwaitingAuthorisation {
			t.Errorf("%s is %s, want untouched", id, c.Status)
		}
	}
	g, _ := s.AccessGrant(ctx, "aac-authorised")
	if g.RevokedAt == nil || !g.RevokedAt.Equal(now) {
		t.Errorf("grant of the expired consent: RevokedAt = %v, want %v", g.RevokedAt, now)
	}
	if at := accessRevokedAt(t, s, a.Hash); at == nil {
		t.Error("access token of the expired consent not revoked")
	}
	if at := refreshRevokedAt(t, s, r.Hash); at == nil {
		t.Error("refresh token of the expired consent not revoked")
	}
	if got, err := s.ExpireConsents(ctx, now.Add(time.Hour), 0); err != nil || len(got) != 0 {
		t.Errorf("ExpireConsents(limit 0) = %v, %v; want none", got, err)
	}
}

// testConcurrentSweepers runs two sweepers at once, as two obank instances
// would: each consent is expired by exactly one of them, and together they
// expire every due consent.
func testConcurrentSweepers(t *testing.T, s ConsentStore) {
	ctx := context.Background()
	base := FixtureTime()
	exp := base.Add(time.Hour)
	const due = 60
	for i := range due {
		c := NewConsent(fmt.Sprintf("aac-%03d", i), "tpp-1", base)
		c.ExpirationDateTime = &exp
		mustCreateConsent(t, s, c)
		if i%2 == 0 {
			mustAuthorise(t, s, c.ID, base.Add(time.Minute))
		}
	}
	notDue := NewConsent("aac-not-due", "tpp-1", base)
	mustCreateConsent(t, s, notDue)

	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		seen  = map[string]int{}
		per   [2]int
		start = make(chan struct{})
	)
	for w := range 2 {
		wg.Go(func() {
			<-start
			for {
				got, err := s.ExpireConsents(ctx, exp, 7)
				if err != nil {
					t.Errorf("sweeper %d: %v", w, err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, c := range got {
					seen[c.ID]++
				}
				per[w] += len(got)
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	if len(seen) != due {
		t.Errorf("sweepers expired %d distinct consents, want %d", len(seen), due)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("consent %s expired %d times, want once", id, n)
		}
	}
	if per[0]+per[1] != due {
		t.Errorf("sweepers reported %d + %d changes, want %d in total", per[0], per[1], due)
	}
	t.Logf("sweeper shares: %v", per)
	if c := mustConsent(t, s, notDue.ID); c.Status != ob.ConsentAwaitingAuthorisation {
		t.Errorf("consent not due is %s", c.Status)
	}
}

// testConcurrentConsentUpdates races an authorisation against a rejection
// of one consent: the row lock makes exactly one win, and the loser sees
// the winner's status (an illegal move) instead of overwriting it.
func testConcurrentConsentUpdates(t *testing.T, s ConsentStore) {
	ctx := context.Background()
	base := FixtureTime()
	at := base.Add(time.Minute)
	for round := range 5 {
		id := fmt.Sprintf("aac-race-%d", round)
		mustCreateConsent(t, s, NewConsent(id, "tpp-1", base))
		var (
			wg    sync.WaitGroup
			errs  [2]error
			start = make(chan struct{})
		)
		changes := [2]func(c *ob.Consent) error{
			func(c *ob.Consent) error { return c.Authorise(Alice, []string{Acc1}, at) },
			func(c *ob.Consent) error { return c.Reject(at) },
		}
		for i := range 2 {
			wg.Go(func() {
				<-start
				_, errs[i] = s.UpdateConsent(ctx, id, at, changes[i])
			})
		}
		close(start)
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case ob.ErrorCode(err) != ob.CodeResourceInvalidConsentStatus:
				t.Errorf("round %d: loser's error = %v, want InvalidConsentStatus", round, err)
			}
		}
		if won != 1 {
			t.Errorf("round %d: %d updates won (%v), want exactly 1", round, won, errs)
		}
		c := mustConsent(t, s, id)
		_, gerr := s.AccessGrant(ctx, id)
		if (c.Status == ob.ConsentAuthorised) != (gerr == nil) {
			t.Errorf("round %d: consent %s but AccessGrant err = %v", round, c.Status, gerr)
		}
		if errors.Is(gerr, ob.ErrConflict) {
			t.Errorf("round %d: %v", round, gerr)
		}
	}
}
