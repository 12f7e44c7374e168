// Package sqlite opens obank's store on a SQLite file with the pure-Go
// modernc.org/sqlite driver (no cgo), applying the embedded migrations.
//
// SQLite allows one writer at a time, so the store writes through a
// single-connection pool whose transactions start with BEGIN IMMEDIATE (no
// SQLITE_BUSY_SNAPSHOT on upgrade from read to write), and reads through a
// separate pool of query-only connections that WAL lets run alongside it.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/obank/obank/internal/sqlstore"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// FileName is the database file inside a data directory.
const FileName = "obank.db"

// Options tune Open. The zero value is ready to use.
type Options struct {
	// Now stamps the migration log; time.Now when nil.
	Now func() time.Time
	// ReadConns is the size of the reader pool; 4 when zero.
	ReadConns int
	// SkipMigrate makes Open check the schema instead of migrating it: it
	// then refuses a database that is behind the binary as well as one
	// that is ahead.
	SkipMigrate bool
}

// dialect is what sqlstore needs to know about SQLite.
func dialect() sqlstore.Dialect {
	return sqlstore.Dialect{
		Name:              "sqlite",
		IsUniqueViolation: isUniqueViolation,
		// SQLITE_MAX_VARIABLE_NUMBER of the bundled SQLite.
		MaxParams:        32766,
		BarePlaceholders: true,
	}
}

func isUniqueViolation(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// Open opens (creating if needed) the database at path, applies pending
// migrations and returns the store. It refuses a database migrated by a
// newer obank (sqlstore.ErrSchemaAhead).
func Open(ctx context.Context, path string, opts Options) (*sqlstore.Store, error) {
	w, err := openDB(path, true)
	if err != nil {
		return nil, err
	}
	// SQLite has one writer at a time; queueing in the pool is cheaper than
	// connections waiting on busy_timeout.
	w.SetMaxOpenConns(1)

	m := migrator(w, opts.Now)
	if opts.SkipMigrate {
		err = m.Check(ctx)
	} else {
		_, err = m.Migrate(ctx)
	}
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}

	// The reader opens after the writer so the file exists and is in WAL mode.
	r, err := openDB(path, false)
	if err != nil {
		w.Close()
		return nil, err
	}
	n := opts.ReadConns
	if n <= 0 {
		n = 4
	}
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	return sqlstore.New(w, r, dialect()), nil
}

// OpenDir opens <dataDir>/obank.db, creating the directory if needed.
func OpenDir(ctx context.Context, dataDir string, opts Options) (*sqlstore.Store, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("sqlite: create data dir: %w", err)
	}
	return Open(ctx, filepath.Join(dataDir, FileName), opts)
}

// Migrate applies pending migrations to the database at path without
// opening a store, and returns the names it applied.
func Migrate(ctx context.Context, path string, now func() time.Time) ([]string, error) {
	db, err := openDB(path, true)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	applied, err := migrator(db, now).Migrate(ctx)
	if err != nil {
		return applied, fmt.Errorf("sqlite: migrate %s: %w", path, err)
	}
	return applied, nil
}

// Migrations returns the embedded migration files, for tests.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err) // the directory is embedded at build time
	}
	return sub
}

func migrator(db *sql.DB, now func() time.Time) *sqlstore.Migrator {
	return &sqlstore.Migrator{DB: db, FS: Migrations(), Now: now}
}

// openDB opens a pool on path. Pragmas go in the DSN because database/sql
// opens connections on its own and each must get them.
func openDB(path string, writer bool) (*sql.DB, error) {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "foreign_keys(ON)")
	q.Add("_pragma", "synchronous(NORMAL)")
	if writer {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Set("_txlock", "immediate")
	} else {
		// A reader never writes; query_only makes a stray write fail
		// instead of queueing behind the writer.
		q.Set("_query_only", "1")
	}
	db, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return db, nil
}
