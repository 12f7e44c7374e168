// Package postgres opens obank's store on PostgreSQL through pgx's
// database/sql driver, applying the embedded migrations under an advisory
// lock so that several processes may start at once.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/obank/obank/internal/sqlstore"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Options tune Open. The zero value is ready to use.
type Options struct {
	// Now stamps the migration log; time.Now when nil.
	Now func() time.Time
	// MaxConns caps the connection pool; 10 when zero. Each obank process
	// holds up to this many of the server's max_connections.
	MaxConns int
	// SkipMigrate makes Open check the schema instead of migrating it, for
	// deployments that run `obank migrate` as a separate step: Open then
	// refuses a schema that is behind the binary as well as one ahead.
	SkipMigrate bool
}

// dialect is what sqlstore needs to know about PostgreSQL.
func dialect() sqlstore.Dialect {
	return sqlstore.Dialect{
		Name:              "postgres",
		IsUniqueViolation: isUniqueViolation,
		// The wire protocol counts bind parameters in an int16.
		MaxParams: 65535,
		// The queries of one page must see one snapshot: under READ
		// COMMITTED the count could include rows the page query misses.
		ReadTx: sql.TxOptions{Isolation: sql.LevelRepeatableRead},
	}
}

func isUniqueViolation(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == "23505" // unique_violation
}

// Open connects to the database at dsn (a postgres:// URL or key=value
// string; a search_path parameter selects the schema), applies pending
// migrations and returns the store. It refuses a schema migrated by a newer
// obank (sqlstore.ErrSchemaAhead).
func Open(ctx context.Context, dsn string, opts Options) (*sqlstore.Store, error) {
	db, err := openDB(ctx, dsn)
	if err != nil {
		return nil, err
	}
	n := opts.MaxConns
	if n <= 0 {
		n = 10
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	// Recycle connections now and then so a failover or a server-side
	// setting change is picked up without a restart.
	db.SetConnMaxLifetime(30 * time.Minute)

	m := migrator(db, opts.Now)
	if opts.SkipMigrate {
		err = m.Check(ctx)
	} else {
		_, err = m.Migrate(ctx)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	return sqlstore.New(db, db, dialect()), nil
}

// Migrate applies pending migrations without opening a store (for `obank
// migrate`) and returns the names it applied.
func Migrate(ctx context.Context, dsn string, now func() time.Time) ([]string, error) {
	db, err := openDB(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	applied, err := migrator(db, now).Migrate(ctx)
	if err != nil {
		return applied, fmt.Errorf("postgres: migrate: %w", err)
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

// lockClass is the first key of the migration advisory lock ("ob" in ASCII);
// the second is a hash of the schema, so migrations of different schemas
// (tests, tenants) do not wait for one another.
const lockClass = 0x6f62

func migrator(db *sql.DB, now func() time.Time) *sqlstore.Migrator {
	return &sqlstore.Migrator{DB: db, FS: Migrations(), Now: now, Lock: advisoryLock}
}

// advisoryLock takes a session advisory lock on conn, the connection the
// migrations then run on, so processes starting together migrate in turn.
func advisoryLock(ctx context.Context, conn *sql.Conn) (func() error, error) {
	const key = `$1, hashtext(COALESCE(current_schema(), ''))`
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(`+key+`)`, lockClass); err != nil {
		return nil, err
	}
	return func() error {
		// Unlock even if ctx is done: the connection returns to the pool.
		_, err := conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock(`+key+`)`, lockClass)
		return err
	}, nil
}

// openDB opens a pool and checks that the server answers.
func openDB(ctx context.Context, dsn string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	db := sql.OpenDB(pipelineConnector{base: stdlib.GetConnector(*cfg)})
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	return db, nil
}
