package janitor_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/obank/obank/internal/sqlstore"
	"github.com/obank/obank/janitor"
	"github.com/obank/obank/ob"
	"github.com/obank/obank/obtest"
	"github.com/obank/obank/postgres/pgtest"
	"github.com/obank/obank/sqlite"
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

// TestRun sweeps at start and on each tick, and stops with its context.
func TestRun(t *testing.T) {
	s := stores()["sqlite"](t)
	base := obtest.FixtureTime()
	c := obtest.NewConsent("aac-1", "tpp-1", base)
	c.ExpirationDateTime = &base
	if err := s.CreateConsent(context.Background(), c); err != nil {
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
		if got.Status == ob.ConsentRejected {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Run did not expire the consent")
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
