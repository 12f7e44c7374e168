package janitor_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/obank/obank/internal/sqlstore"
	"github.com/obank/obank/janitor"
	"github.com/obank/obank/ob"
	"github.com/obank/obank/obtest"
	"github.com/obank/obank/postgres/pgtest"
	"github.com/obank/obank/sqlite"
	"github.com/obank/obank/web/webstore"
)

// stores are the backends the janitor runs on; postgres skips without
// OBANK_TEST_POSTGRES_DSN.
func stores() map[string]func(t *testing.T) obtest.ConsentStore {
	return map[string]func(t *testing.T) obtest.ConsentStore{
		"sqlite": func(t *testing.T) obtest.ConsentStore {
			s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "obank.db"), sqlite.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
		"postgres": func(t *testing.T) obtest.ConsentStore { return pgtest.OpenTestStore(t) },
	}
}

// TestOnceDrainsBacklog: Once keeps taking batches until nothing is due,
// and a second instance running at the same time never repeats its work.
func TestOnceDrainsBacklog(t *testing.T) {
	for name, open := range stores() {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			ctx := context.Background()
			base := obtest.FixtureTime()
			exp := base.Add(time.Hour)
			n := 2*janitor.BatchSize + 17
			for i := range n {
				c := obtest.NewConsent(fmt.Sprintf("aac-%04d", i), "tpp-1", base)
				c.ExpirationDateTime = &exp
				if err := s.CreateConsent(ctx, c); err != nil {
					t.Fatal(err)
				}
			}
			results := make(chan []ob.Consent, 2)
			for range 2 {
				go func() {
					got, err := janitor.Once(ctx, s, exp)
					if err != nil {
						t.Error(err)
					}
					results <- got
				}()
			}
			seen := map[string]bool{}
			for range 2 {
				for _, c := range <-results {
					if seen[c.ID] {
						t.Errorf("%s expired twice", c.ID)
					}
					seen[c.ID] = true
					if c.Status != ob.ConsentRejected {
						t.Errorf("%s is %s, want Rejected", c.ID, c.Status)
					}
				}
			}
			if len(seen) != n {
				t.Errorf("expired %d consents, want %d", len(seen), n)
			}
		})
	}
}

// TestRun sweeps at start and on each tick, purging too, and stops with
// its context.
func TestRun(t *testing.T) {
	s := stores()["sqlite"](t)
	base := obtest.FixtureTime()
	c := obtest.NewConsent("aac-1", "tpp-1", base)
	c.ExpirationDateTime = &base
	if err := s.CreateConsent(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	ws, ok := s.(webstore.Store)
	if !ok {
		t.Fatalf("%T is not a webstore.Store", s)
	}
	expired := webstore.Session{ID: "ws-expired", Purpose: webstore.PurposeDashboard, CSRF: "c",
		CreatedAt: base.Add(-time.Hour), LastSeenAt: base.Add(-time.Hour), ExpiresAt: base.Add(-time.Minute)}
	if err := ws.CreateWebSession(context.Background(), expired); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- janitor.Run(ctx, s, time.Millisecond, func() time.Time { return base }, slog.New(slog.DiscardHandler))
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := s.Consent(context.Background(), "aac-1")
		if err != nil {
			t.Fatal(err)
		}
		_, err = ws.WebSession(context.Background(), expired.ID)
		if got.Status == ob.ConsentRejected && ob.IsNotFound(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Run did not expire the consent (%s) and purge the expired web session (%v)", got.Status, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != context.Canceled {
			t.Errorf("Run = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop")
	}
}

// TestPurgeKeys deletes idempotency keys once their 24 hours have passed,
// and only those.
func TestPurgeKeys(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "obank.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	base := obtest.FixtureTime()
	for i := range 3 {
		_, _, err := s.WithIdempotency(ctx, sqlstore.IdempotencyRequest{TPPID: "tpp-1", Key: fmt.Sprintf("key-%d", i),
			RequestHash: sqlstore.HashBody([]byte("body")), Kind: "test", Now: base.Add(time.Duration(i) * time.Hour)},
			func(*sql.Tx) (sqlstore.IdempotentResult, error) {
				return sqlstore.IdempotentResult{ResourceID: fmt.Sprintf("r-%d", i)}, nil
			})
		if err != nil {
			t.Fatal(err)
		}
	}
	// At base+25h30m the keys of base and base+1h have expired.
	n, err := janitor.PurgeKeys(ctx, s, base.Add(25*time.Hour+30*time.Minute))
	if err != nil || n != 2 {
		t.Fatalf("PurgeKeys = %d, %v; want 2", n, err)
	}
	if n, err := janitor.PurgeKeys(ctx, s, base.Add(25*time.Hour+30*time.Minute)); err != nil || n != 0 {
		t.Errorf("second PurgeKeys = %d, %v; want 0", n, err)
	}
}

// fakePurger answers PurgeExpired with its batches in turn, and err with
// the last one.
type fakePurger struct {
	batches []map[string]int
	err     error
	limits  []int
	nows    []time.Time
}

func (p *fakePurger) PurgeExpired(ctx context.Context, now time.Time, limit int) (map[string]int, error) {
	p.limits = append(p.limits, limit)
	p.nows = append(p.nows, now)
	if len(p.limits) > len(p.batches) {
		return nil, errors.New("fakePurger: called after its last batch")
	}
	b := p.batches[len(p.limits)-1]
	if len(p.limits) == len(p.batches) {
		return b, p.err
	}
	return b, nil
}

// TestPurge: Purge calls again while any table fills its batch, sums what
// each table deleted, leaves out tables that deleted nothing, and stops at
// an error with what it had deleted so far.
func TestPurge(t *testing.T) {
	const full = janitor.BatchSize * 10
	errStore := errors.New("store down")
	for _, tc := range []struct {
		name    string
		batches []map[string]int
		err     error
		want    map[string]int
	}{
		{
			name:    "nothing",
			batches: []map[string]int{{"web_sessions": 0, "oauth_codes": 0}},
			want:    map[string]int{},
		},
		{
			name:    "one short batch",
			batches: []map[string]int{{"web_sessions": 3, "oauth_codes": full - 1}},
			want:    map[string]int{"web_sessions": 3, "oauth_codes": full - 1},
		},
		{
			name: "a full table asks for more until it is short",
			batches: []map[string]int{
				{"web_sessions": full, "oauth_codes": 2},
				{"web_sessions": full, "oauth_codes": 0},
				{"web_sessions": 7, "oauth_codes": 0},
			},
			want: map[string]int{"web_sessions": 2*full + 7, "oauth_codes": 2},
		},
		{
			name: "tables fill in turn",
			batches: []map[string]int{
				{"web_sessions": full, "event_outbox": 1},
				{"web_sessions": 0, "event_outbox": full},
				{"web_sessions": 0, "event_outbox": 0},
			},
			want: map[string]int{"web_sessions": full, "event_outbox": full + 1},
		},
		{
			name: "error keeps the counts so far",
			batches: []map[string]int{
				{"web_sessions": full},
				{"web_sessions": 4},
			},
			err:  errStore,
			want: map[string]int{"web_sessions": full + 4},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &fakePurger{batches: tc.batches, err: tc.err}
			now := obtest.FixtureTime()
			got, err := janitor.Purge(context.Background(), p, now)
			if !errors.Is(err, tc.err) {
				t.Errorf("Purge err = %v, want %v", err, tc.err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Purge mismatch (-want +got):\n%s", diff)
			}
			if len(p.limits) != len(tc.batches) {
				t.Errorf("Purge called PurgeExpired %d times, want %d", len(p.limits), len(tc.batches))
			}
			for i := range p.limits {
				if p.limits[i] != full || !p.nows[i].Equal(now) {
					t.Errorf("call %d: PurgeExpired(%v, %d), want (%v, %d)", i, p.nows[i], p.limits[i], now, full)
				}
			}
		})
	}
}

// TestPurgeCancelled stops between batches when the context is done.
func TestPurgeCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p := &fakePurger{batches: []map[string]int{{"web_sessions": 1}}}
	if _, err := janitor.Purge(ctx, p, obtest.FixtureTime()); !errors.Is(err, context.Canceled) {
		t.Errorf("Purge(cancelled) = %v, want context.Canceled", err)
	}
	if len(p.limits) != 0 {
		t.Errorf("Purge(cancelled) called PurgeExpired %d times", len(p.limits))
	}
}
