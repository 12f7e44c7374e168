// Package pgtest gives tests a fresh PostgreSQL store. The server comes from
// OBANK_TEST_POSTGRES_DSN; when it is unset, the tests that ask for one skip.
//
// Each store lives in its own, uniquely named schema, dropped when the test
// ends, so tests may run in parallel against one database.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver

	"github.com/obank/obank/internal/sqlstore"
	"github.com/obank/obank/postgres"
)

// EnvDSN names the environment variable holding the test server's DSN.
const EnvDSN = "OBANK_TEST_POSTGRES_DSN"

// SkipMessage is what tests skip with when EnvDSN is unset.
const SkipMessage = EnvDSN + " not set: skipping PostgreSQL store tests"

// SchemaDSN creates a new empty schema and returns a DSN whose connections
// use it (search_path), or skips the test when EnvDSN is unset. The schema is
// dropped with everything in it when the test ends.
func SchemaDSN(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(EnvDSN)
	if base == "" {
		tb.Skip(SkipMessage)
	}
	schema := "obtest_" + strings.ToLower(rand.Text()[:12])
	db, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(context.Background(), `CREATE SCHEMA `+schema); err != nil {
		tb.Fatalf("pgtest: create schema: %v", err)
	}
	tb.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			tb.Errorf("pgtest: %v", err)
			return
		}
		defer db.Close()
		if _, err := db.ExecContext(context.Background(), `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			tb.Errorf("pgtest: drop schema %s: %v", schema, err)
		}
	})
	dsn, err := withSearchPath(base, schema)
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	return dsn
}

// OpenTestStore returns a migrated store in a fresh schema, closed when the
// test ends, or skips the test when EnvDSN is unset.
func OpenTestStore(tb testing.TB) *sqlstore.Store {
	tb.Helper()
	dsn := SchemaDSN(tb)
	// Few connections: many tests may hold a store at once.
	s, err := postgres.Open(context.Background(), dsn, postgres.Options{MaxConns: 4})
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	// Registered after SchemaDSN's cleanup, so it runs first: the pool's
	// connections close before the schema is dropped.
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("pgtest: close: %v", err)
		}
	})
	return s
}

// withSearchPath adds search_path to a URL or key=value DSN; pgx sends
// unknown parameters to the server as run-time settings.
func withSearchPath(dsn, schema string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("parse %s: %w", EnvDSN, err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String(), nil
	}
	return dsn + " search_path=" + schema, nil
}
