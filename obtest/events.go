package obtest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/obank/obank/events"
	"github.com/obank/obank/ob"
)

// RunEventStoreTests runs the events.Store contract suite. open must return
// a fresh, empty store for each call.
func RunEventStoreTests(t *testing.T, open func(t *testing.T) events.Store) {
	t.Run("Subscriptions", func(t *testing.T) { testSubscriptions(t, open(t)) })
	t.Run("OutboxLifecycle", func(t *testing.T) { testOutboxLifecycle(t, open(t)) })
	t.Run("Polling", func(t *testing.T) { testOutboxPolling(t, open(t)) })
	t.Run("ConcurrentClaims", func(t *testing.T) { testConcurrentClaims(t, open(t)) })
}

func testSubscriptions(t *testing.T, s events.Store) {
	ctx := context.Background()
	base := FixtureTime().Truncate(time.Microsecond)
	a := events.Subscription{ID: "sub-a", TPPID: "tpp-a", CallbackURL: "https://a.example/v3.1/event-notifications",
		Version: "3.1", CreatedAt: base, UpdatedAt: base}
	b := events.Subscription{ID: "sub-b", TPPID: "tpp-b", Version: "3.1",
		EventTypes: []string{events.TypeResourceUpdate}, CreatedAt: base, UpdatedAt: base}
	for _, sub := range []events.Subscription{a, b} {
		if err := s.CreateSubscription(ctx, sub); err != nil {
			t.Fatalf("CreateSubscription(%s): %v", sub.ID, err)
		}
	}
	dup := a
	dup.ID = "sub-a2"
	wantCode(t, "second subscription of a TPP", s.CreateSubscription(ctx, dup), ob.CodeConflict)
	dupID := b
	dupID.TPPID = "tpp-c"
	wantCode(t, "subscription id reused", s.CreateSubscription(ctx, dupID), ob.CodeConflict)

	got, err := s.Subscription(ctx, "sub-b")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(b, got); diff != "" {
		t.Errorf("Subscription(sub-b) mismatch (-want +got):\n%s", diff)
	}
	_, err = s.Subscription(ctx, "nope")
	wantCode(t, "Subscription(unknown)", err, ob.CodeResourceNotFound)

	list, err := s.SubscriptionsByTPP(ctx, "tpp-a")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]events.Subscription{a}, list); diff != "" {
		t.Errorf("SubscriptionsByTPP(tpp-a) mismatch (-want +got):\n%s", diff)
	}
	if list, err := s.SubscriptionsByTPP(ctx, "tpp-z"); err != nil || len(list) != 0 {
		t.Errorf("SubscriptionsByTPP(tpp-z) = %v, %v; want empty", list, err)
	}

	a.CallbackURL, a.Version, a.EventTypes, a.UpdatedAt = "", "3.1.11", []string{events.TypeConsentAuthorizationRevoked}, base.Add(time.Hour)
	if err := s.UpdateSubscription(ctx, a); err != nil {
		t.Fatalf("UpdateSubscription: %v", err)
	}
	if got, _ := s.Subscription(ctx, "sub-a"); !cmp.Equal(a, got) {
		t.Errorf("after update: %s", cmp.Diff(a, got))
	}
	wantCode(t, "UpdateSubscription(unknown)", s.UpdateSubscription(ctx, events.Subscription{ID: "nope"}), ob.CodeResourceNotFound)

	if err := s.DeleteSubscription(ctx, "sub-a"); err != nil {
		t.Fatalf("DeleteSubscription: %v", err)
	}
	wantCode(t, "DeleteSubscription twice", s.DeleteSubscription(ctx, "sub-a"), ob.CodeResourceNotFound)
	// Deleted, the TPP may subscribe again.
	if err := s.CreateSubscription(ctx, dup); err != nil {
		t.Errorf("CreateSubscription after delete: %v", err)
	}
}

// notification returns an outbox row for tpp created at base+offset.
func notification(jti, tpp string, status events.Status, created time.Time) events.Notification {
	n := events.Notification{
		JTI: jti, TPPID: tpp, EventType: events.TypeConsentAuthorizationRevoked,
		Claims: []byte(fmt.Sprintf(`{"jti":%q}`, jti)), Status: status,
		NextAttemptAt: created, CreatedAt: created,
	}
	if status == events.StatusPending {
		n.CallbackURL = "https://tpp.example/v3.1/event-notifications"
	}
	return n
}

func mustEnqueue(t *testing.T, s events.Store, ns ...events.Notification) {
	t.Helper()
	for _, n := range ns {
		if err := s.EnqueueNotification(context.Background(), n); err != nil {
			t.Fatalf("EnqueueNotification(%s): %v", n.JTI, err)
		}
	}
}

func jtis(ns []events.Notification) []string {
	out := []string{}
	for _, n := range ns {
		out = append(out, n.JTI)
	}
	return out
}

func testOutboxLifecycle(t *testing.T, s events.Store) {
	ctx := context.Background()
	base := FixtureTime().Truncate(time.Microsecond)
	n1 := notification("j1", "tpp-a", events.StatusPending, base)
	mustEnqueue(t, s, n1,
		notification("j2", "tpp-a", events.StatusPending, base.Add(time.Minute)), // not due yet at base
		notification("j3", "tpp-a", events.StatusPolling, base))                  // never pushed
	wantCode(t, "jti reused", s.EnqueueNotification(ctx, n1), ob.CodeConflict)

	got, err := s.Notification(ctx, "j1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(n1, got); diff != "" {
		t.Errorf("Notification(j1) mismatch (-want +got):\n%s", diff)
	}
	_, err = s.Notification(ctx, "nope")
	wantCode(t, "Notification(unknown)", err, ob.CodeResourceNotFound)

	lease := time.Minute
	claimed, err := s.ClaimNotifications(ctx, base, lease, 10)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"j1"}, jtis(claimed)); diff != "" {
		t.Fatalf("claim at base (-want +got):\n%s", diff)
	}
	if lu := claimed[0].LockedUntil; lu == nil || !lu.Equal(base.Add(lease)) {
		t.Errorf("claimed LockedUntil = %v, want %v", lu, base.Add(lease))
	}
	// Leased: nobody else gets it until the lease runs out.
	if again, _ := s.ClaimNotifications(ctx, base.Add(30*time.Second), lease, 10); len(again) != 0 {
		t.Errorf("claim during the lease = %v, want none", jtis(again))
	}
	// The lease ran out (the deliverer died): j1 is claimable again, and j2
	// is due now.
	again, err := s.ClaimNotifications(ctx, base.Add(lease), lease, 10)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"j1", "j2"}, jtis(again)); diff != "" {
		t.Errorf("claim after the lease (-want +got):\n%s", diff)
	}

	// A failed attempt releases the lease and schedules the next one.
	next := base.Add(time.Hour)
	if ok, err := s.MarkAttempt(ctx, "j1", 1, next, false, "TPP answered 500"); !ok || err != nil {
		t.Fatalf("MarkAttempt = %v, %v", ok, err)
	}
	got, _ = s.Notification(ctx, "j1")
	if got.Status != events.StatusPending || got.Attempts != 1 || !got.NextAttemptAt.Equal(next) ||
		got.LockedUntil != nil || got.LastError != "TPP answered 500" {
		t.Errorf("after MarkAttempt: %+v", got)
	}
	if c, _ := s.ClaimNotifications(ctx, next.Add(-time.Second), lease, 10); slices.Contains(jtis(c), "j1") {
		t.Errorf("j1 claimed before its next attempt: %v", jtis(c))
	}
	// Dead: Failed, never claimed again.
	if ok, err := s.MarkAttempt(ctx, "j1", 2, next, true, "gave up"); !ok || err != nil {
		t.Fatalf("MarkAttempt(dead) = %v, %v", ok, err)
	}
	if got, _ := s.Notification(ctx, "j1"); got.Status != events.StatusFailed {
		t.Errorf("dead status = %s, want failed", got.Status)
	}
	if c, _ := s.ClaimNotifications(ctx, next.Add(24*time.Hour), lease, 10); slices.Contains(jtis(c), "j1") {
		t.Errorf("failed j1 claimed again: %v", jtis(c))
	}
	if ok, _ := s.MarkAttempt(ctx, "j1", 3, next, false, "x"); ok {
		t.Error("MarkAttempt on a failed row reported a change")
	}

	// Delivered.
	at := base.Add(2 * time.Minute)
	if ok, err := s.MarkDelivered(ctx, "j2", at); !ok || err != nil {
		t.Fatalf("MarkDelivered = %v, %v", ok, err)
	}
	got, _ = s.Notification(ctx, "j2")
	if got.Status != events.StatusDelivered || got.DeliveredAt == nil || !got.DeliveredAt.Equal(at) || got.LockedUntil != nil {
		t.Errorf("after MarkDelivered: %+v", got)
	}
	if ok, _ := s.MarkDelivered(ctx, "j2", at); ok {
		t.Error("second MarkDelivered reported a change")
	}

	// Acknowledged by polling while a push is in flight: the push's outcome
	// does not undo the acknowledgement.
	mustEnqueue(t, s, notification("j4", "tpp-a", events.StatusPending, base))
	if _, err := s.ClaimNotifications(ctx, base.Add(48*time.Hour), lease, 10); err != nil {
		t.Fatal(err)
	}
	if err := s.AckNotifications(ctx, "tpp-a", []string{"j4"}, at); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.MarkDelivered(ctx, "j4", at); ok {
		t.Error("MarkDelivered on an acknowledged row reported a change")
	}
	if got, _ := s.Notification(ctx, "j4"); got.Status != events.StatusAcked || got.AckedAt == nil {
		t.Errorf("j4 after ack and push: %+v", got)
	}
}

func testOutboxPolling(t *testing.T, s events.Store) {
	ctx := context.Background()
	base := FixtureTime().Truncate(time.Microsecond)
	mustEnqueue(t, s,
		notification("p1", "tpp-a", events.StatusPolling, base),
		notification("p2", "tpp-a", events.StatusPending, base.Add(time.Second)),
		notification("p3", "tpp-a", events.StatusPolling, base.Add(2*time.Second)),
		notification("p4", "tpp-a", events.StatusPending, base.Add(3*time.Second)),
		notification("q1", "tpp-b", events.StatusPolling, base))
	if ok, _ := s.MarkDelivered(ctx, "p4", base); !ok {
		t.Fatal("MarkDelivered(p4) failed")
	}
	if _, err := s.MarkAttempt(ctx, "p2", 9, base, true, "dead"); err != nil {
		t.Fatal(err)
	}

	poll := func(tpp string, limit int) ([]string, bool) {
		t.Helper()
		ns, more, err := s.PendingForPolling(ctx, tpp, limit)
		if err != nil {
			t.Fatalf("PendingForPolling(%s, %d): %v", tpp, limit, err)
		}
		return jtis(ns), more
	}
	// Delivered p4 is not served; failed p2 is.
	for _, tc := range []struct {
		limit    int
		want     []string
		wantMore bool
	}{
		{10, []string{"p1", "p2", "p3"}, false},
		{3, []string{"p1", "p2", "p3"}, false},
		{2, []string{"p1", "p2"}, true},
		{0, []string{}, true},
	} {
		got, more := poll("tpp-a", tc.limit)
		if !cmp.Equal(tc.want, got) || more != tc.wantMore {
			t.Errorf("PendingForPolling(tpp-a, %d) = %v, %v; want %v, %v", tc.limit, got, more, tc.want, tc.wantMore)
		}
	}

	at := base.Add(time.Minute)
	// Another TPP's jti and unknown ones are ignored.
	if err := s.AckNotifications(ctx, "tpp-b", []string{"p1", "zzz"}, at); err != nil {
		t.Fatal(err)
	}
	if err := s.AckNotifications(ctx, "tpp-a", []string{"p1", "q1"}, at); err != nil {
		t.Fatal(err)
	}
	err := s.RejectNotifications(ctx, "tpp-a", map[string]events.SETError{
		"p3": {Err: "jwtAud", Description: "wrong audience"},
		"q1": {Err: "x", Description: "not mine"},
	}, at)
	if err != nil {
		t.Fatal(err)
	}
	if got, more := poll("tpp-a", 10); !cmp.Equal([]string{"p2"}, got) || more {
		t.Errorf("tpp-a after ack/reject = %v, %v; want [p2], false", got, more)
	}
	if got, _ := poll("tpp-b", 10); !cmp.Equal([]string{"q1"}, got) {
		t.Errorf("tpp-b = %v; want [q1] (tpp-a cannot ack it)", got)
	}
	p3, _ := s.Notification(ctx, "p3")
	if p3.Status != events.StatusRejected || p3.SetErr != "jwtAud" || p3.SetErrDescription != "wrong audience" {
		t.Errorf("p3 after setErrs: %+v", p3)
	}
	if p1, _ := s.Notification(ctx, "p1"); p1.Status != events.StatusAcked || p1.AckedAt == nil || !p1.AckedAt.Equal(at) {
		t.Errorf("p1 after ack: %+v", p1)
	}
}

// testConcurrentClaims has several claimers race over one outbox: every row
// is claimed exactly once.
func testConcurrentClaims(t *testing.T, s events.Store) {
	ctx := context.Background()
	base := FixtureTime().Truncate(time.Microsecond)
	const rows = 40
	for i := range rows {
		mustEnqueue(t, s, notification(fmt.Sprintf("c%02d", i), "tpp-a", events.StatusPending, base))
	}
	var (
		mu   sync.Mutex
		seen = map[string]int{}
		wg   sync.WaitGroup
	)
	for range 6 {
		wg.Go(func() {
			for {
				got, err := s.ClaimNotifications(ctx, base, time.Minute, 3)
				if err != nil {
					t.Errorf("ClaimNotifications: %v", err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, n := range got {
					seen[n.JTI]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != rows {
		t.Errorf("%d rows claimed, want %d", len(seen), rows)
	}
	for jti, n := range seen {
		if n != 1 {
			t.Errorf("row %s claimed %d times", jti, n)
		}
	}
}
