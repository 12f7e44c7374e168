package postgres_test

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"testing"

	"github.com/obank/obank/events"
	"github.com/obank/obank/internal/sqlstore"
	"github.com/obank/obank/ob"
	"github.com/obank/obank/obtest"
	"github.com/obank/obank/postgres"
	"github.com/obank/obank/postgres/pgtest"
)

func openStore(tb testing.TB) ob.Store { return pgtest.OpenTestStore(tb) }

func TestStore(t *testing.T) {
	obtest.RunStoreTests(t, func(t *testing.T) ob.Store { return openStore(t) })
}

func TestOAuthStore(t *testing.T) {
	obtest.RunOAuthStoreTests(t, func(t *testing.T) obtest.OAuthStore { return pgtest.OpenTestStore(t) })
}

func TestMigrateIdempotent(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.SchemaDSN(t)
	applied, err := postgres.Migrate(ctx, dsn, nil)
	if err != nil || len(applied) == 0 {
		t.Fatalf("first Migrate = %v, %v; want the migrations applied", applied, err)
	}
	applied, err = postgres.Migrate(ctx, dsn, nil)
	if err != nil || len(applied) != 0 {
		t.Fatalf("second Migrate = %v, %v; want nothing applied", applied, err)
	}
	// A store opened on it works, and so does one that only checks the schema.
	for _, opts := range []postgres.Options{{}, {SkipMigrate: true}} {
		s, err := postgres.Open(ctx, dsn, opts)
		if err != nil {
			t.Fatalf("Open(%+v): %v", opts, err)
		}
		if empty, err := s.Empty(ctx); err != nil || !empty {
			t.Errorf("Open(%+v): Empty() = %v, %v; want true, nil", opts, empty, err)
		}
		s.Close()
	}
}

// TestConcurrentMigrate starts several migrators on one new schema at once:
// the advisory lock makes them take turns, so each migration is applied once
// and none fails.
func TestConcurrentMigrate(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.SchemaDSN(t)
	const n = 4
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		applied = map[string]int{}
	)
	for range n {
		wg.Go(func() {
			names, err := postgres.Migrate(ctx, dsn, nil)
			if err != nil {
				t.Errorf("Migrate: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, name := range names {
				applied[name]++
			}
		})
	}
	wg.Wait()
	for name, count := range applied {
		if count != 1 {
			t.Errorf("migration %s applied %d times, want 1", name, count)
		}
	}
	if len(applied) == 0 {
		t.Error("no migration applied")
	}
}

func TestSchemaBehindRefusedWithSkipMigrate(t *testing.T) {
	_, err := postgres.Open(context.Background(), pgtest.SchemaDSN(t), postgres.Options{SkipMigrate: true})
	if !errors.Is(err, sqlstore.ErrSchemaBehind) {
		t.Fatalf("Open(SkipMigrate) on an empty schema: err = %v, want ErrSchemaBehind", err)
	}
}

func TestSchemaAheadRefused(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.SchemaDSN(t)
	if _, err := postgres.Migrate(ctx, dsn, nil); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	// Pretend a newer obank migrated this schema.
	if _, err := db.Exec(`INSERT INTO schema_migrations (name, applied_at) VALUES ('9999_future', 0)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	for _, opts := range []postgres.Options{{}, {SkipMigrate: true}} {
		if _, err := postgres.Open(ctx, dsn, opts); !errors.Is(err, sqlstore.ErrSchemaAhead) {
			t.Errorf("Open(%+v) on a newer schema: err = %v, want ErrSchemaAhead", opts, err)
		}
	}
}

func BenchmarkImport(b *testing.B) {
	obtest.BenchmarkImport(b, openStore)
}

func BenchmarkTransactionsPage(b *testing.B) {
	obtest.BenchmarkTransactionsPage(b, openStore)
}

func TestConsentStore(t *testing.T) {
	obtest.RunConsentStoreTests(t, func(t *testing.T) obtest.ConsentStore { return pgtest.OpenTestStore(t) })
}

func TestWebStore(t *testing.T) {
	obtest.RunWebStoreTests(t, func(t *testing.T) obtest.WebStore { return pgtest.OpenTestStore(t) })
}

func TestEventStore(t *testing.T) {
	obtest.RunEventStoreTests(t, func(t *testing.T) events.Store { return pgtest.OpenTestStore(t) })
}

func TestIdempotencyStore(t *testing.T) {
	obtest.RunIdempotencyStoreTests(t, func(t *testing.T) obtest.IdempotencyStore { return pgtest.OpenTestStore(t) })
}

func TestPurge(t *testing.T) {
	obtest.RunPurgeTests(t, func(t *testing.T) obtest.PurgeStore { return pgtest.OpenTestStore(t) })
}

func TestLedger(t *testing.T) {
	raw := &obtest.RawStores{Driver: "pgx", Suffix: ""}
	obtest.RunLedgerTests(t, func(t *testing.T) obtest.LedgerStore {
		dsn := pgtest.SchemaDSN(t)
		// Enough connections for the concurrent payments to contend on
		// the row locks rather than queue in the pool.
		s, err := postgres.Open(context.Background(), dsn, postgres.Options{MaxConns: 16})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("close: %v", err)
			}
		})
		raw.Add(s, dsn)
		return s
	}, obtest.LedgerOptions{
		Concurrent: 200,
		Tamper: func(t *testing.T, s obtest.LedgerStore, id string, delta int64) {
			if _, err := raw.DB(t, s).Exec(`UPDATE ledger_accounts SET balance_minor = balance_minor + $1 WHERE id = $2`, delta, id); err != nil {
				t.Fatal(err)
			}
		},
	})
}

func TestPaymentStore(t *testing.T) {
	raw := &obtest.RawStores{Driver: "pgx", Suffix: ""}
	obtest.RunPaymentStoreTests(t, func(t *testing.T) obtest.PaymentStore {
		dsn := pgtest.SchemaDSN(t)
		s, err := postgres.Open(context.Background(), dsn, postgres.Options{MaxConns: 4})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		raw.Add(s, dsn)
		return s
	}, obtest.PaymentStoreOptions{ForgetRisk: func(t *testing.T, s obtest.PaymentStore, accountID string) {
		if _, err := raw.DB(t, s).Exec(`UPDATE transactions SET risk = NULL WHERE account_id = $1`, accountID); err != nil {
			t.Fatal(err)
		}
	}})
}

func TestSecretSealing(t *testing.T) {
	raw := &obtest.RawStores{Driver: "pgx", Suffix: ""}
	obtest.RunSecretSealingTests(t, func(t *testing.T) *sqlstore.Store {
		dsn := pgtest.SchemaDSN(t)
		s, err := postgres.Open(context.Background(), dsn, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		raw.Add(s, dsn)
		return s
	}, func(t *testing.T, s *sqlstore.Store, customerID string) string {
		return obtest.RawTOTPSecret(t, raw.DB(t, s), customerID)
	})
}
