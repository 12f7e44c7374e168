package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"github.com/obank/obank/events"
	"github.com/obank/obank/internal/sqlstore"
	"github.com/obank/obank/ob"
	"github.com/obank/obank/obtest"
	"github.com/obank/obank/sqlite"
)

// openTemp opens a new store in a file under the test's temporary directory.
func openTemp(tb testing.TB) *sqlstore.Store {
	tb.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "obank.db"), sqlite.Options{})
	if err != nil {
		tb.Fatalf("sqlite.Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestStore(t *testing.T) {
	obtest.RunStoreTests(t, func(t *testing.T) ob.Store { return openTemp(t) })
}

func TestOAuthStore(t *testing.T) {
	obtest.RunOAuthStoreTests(t, func(t *testing.T) obtest.OAuthStore {
		return openTemp(t)
	})
}

func TestOpenDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "nested")
	s, err := sqlite.OpenDir(context.Background(), dir, sqlite.Options{})
	if err != nil {
		t.Fatalf("OpenDir: %v", err)
	}
	defer s.Close()
	if err := s.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestMigrateIdempotent(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "obank.db")
	applied, err := sqlite.Migrate(ctx, path, nil)
	if err != nil || len(applied) == 0 {
		t.Fatalf("first Migrate = %v, %v; want the migrations applied", applied, err)
	}
	applied, err = sqlite.Migrate(ctx, path, nil)
	if err != nil || len(applied) != 0 {
		t.Fatalf("second Migrate = %v, %v; want nothing applied", applied, err)
	}
	// A store opened on it works, and so does one that only checks the schema.
	for _, opts := range []sqlite.Options{{}, {SkipMigrate: true}} {
		s, err := sqlite.Open(ctx, path, opts)
		if err != nil {
			t.Fatalf("Open(%+v): %v", opts, err)
		}
		if empty, err := s.Empty(ctx); err != nil || !empty {
			t.Errorf("Open(%+v): Empty() = %v, %v; want true, nil", opts, empty, err)
		}
		s.Close()
	}
}

func TestSchemaBehindRefusedWithSkipMigrate(t *testing.T) {
	_, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "obank.db"), sqlite.Options{SkipMigrate: true})
	if !errors.Is(err, sqlstore.ErrSchemaBehind) {
		t.Fatalf("Open(SkipMigrate) on a new file: err = %v, want ErrSchemaBehind", err)
	}
}

func TestSchemaAheadRefused(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "obank.db")
	if _, err := sqlite.Migrate(ctx, path, nil); err != nil {
		t.Fatal(err)
	}
	// Pretend a newer obank migrated this database.
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO schema_migrations (name, applied_at) VALUES ('9999_future', 0)`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	for _, opts := range []sqlite.Options{{}, {SkipMigrate: true}} {
		_, err = sqlite.Open(ctx, path, opts)
		if !errors.Is(err, sqlstore.ErrSchemaAhead) {
			t.Errorf("Open(%+v) on a newer schema: err = %v, want ErrSchemaAhead", opts, err)
		}
	}
	if _, err := sqlite.Migrate(ctx, path, nil); !errors.Is(err, sqlstore.ErrSchemaAhead) {
		t.Errorf("Migrate on a newer schema: err = %v, want ErrSchemaAhead", err)
	}
}

func BenchmarkImport(b *testing.B) {
	obtest.BenchmarkImport(b, func(tb testing.TB) ob.Store { return openTemp(tb) })
}

func BenchmarkTransactionsPage(b *testing.B) {
	obtest.BenchmarkTransactionsPage(b, func(tb testing.TB) ob.Store { return openTemp(tb) })
}

func TestConsentStore(t *testing.T) {
	obtest.RunConsentStoreTests(t, func(t *testing.T) obtest.ConsentStore {
		return openTemp(t)
	})
}

func TestWebStore(t *testing.T) {
	obtest.RunWebStoreTests(t, func(t *testing.T) obtest.WebStore {
		return openTemp(t)
	})
}

func TestEventStore(t *testing.T) {
	obtest.RunEventStoreTests(t, func(t *testing.T) events.Store { return openTemp(t) })
}

func TestIdempotencyStore(t *testing.T) {
	obtest.RunIdempotencyStoreTests(t, func(t *testing.T) obtest.IdempotencyStore {
		return openTemp(t)
	})
}

func TestPurge(t *testing.T) {
	obtest.RunPurgeTests(t, func(t *testing.T) obtest.PurgeStore { return openTemp(t) })
}

func TestLedger(t *testing.T) {
	raw := &obtest.RawStores{Driver: "sqlite", Suffix: "?_pragma=busy_timeout(5000)"}
	obtest.RunLedgerTests(t, func(t *testing.T) obtest.LedgerStore {
		path := filepath.Join(t.TempDir(), "obank.db")
		s, err := sqlite.Open(context.Background(), path, sqlite.Options{})
		if err != nil {
			t.Fatalf("sqlite.Open: %v", err)
		}
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		raw.Add(s, path)
		return s
	}, obtest.LedgerOptions{
		Concurrent: 50,
		Tamper: func(t *testing.T, s obtest.LedgerStore, id string, delta int64) {
			if _, err := raw.DB(t, s).Exec(`UPDATE ledger_accounts SET balance_minor = balance_minor + $1 WHERE id = $2`, delta, id); err != nil {
				t.Fatal(err)
			}
		},
	})
}

func TestPaymentStore(t *testing.T) {
	raw := &obtest.RawStores{Driver: "sqlite", Suffix: "?_pragma=busy_timeout(5000)"}
	obtest.RunPaymentStoreTests(t, func(t *testing.T) obtest.PaymentStore {
		path := filepath.Join(t.TempDir(), "obank.db")
		s, err := sqlite.Open(context.Background(), path, sqlite.Options{})
		if err != nil {
			t.Fatalf("sqlite.Open: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		raw.Add(s, path)
		return s
	}, obtest.PaymentStoreOptions{ForgetRisk: func(t *testing.T, s obtest.PaymentStore, accountID string) {
		if _, err := raw.DB(t, s).Exec(`UPDATE transactions SET risk = NULL WHERE account_id = $1`, accountID); err != nil {
			t.Fatal(err)
		}
	}})
}

func TestSecretSealing(t *testing.T) {
	raw := &obtest.RawStores{Driver: "sqlite", Suffix: "?_pragma=busy_timeout(5000)"}
	obtest.RunSecretSealingTests(t, func(t *testing.T) *sqlstore.Store {
		path := filepath.Join(t.TempDir(), "obank.db")
		s, err := sqlite.Open(context.Background(), path, sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		raw.Add(s, path)
		return s
	}, func(t *testing.T, s *sqlstore.Store, customerID string) string {
		return obtest.RawTOTPSecret(t, raw.DB(t, s), customerID)
	})
}
