package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"
)

// ErrSchemaAhead is returned when the database has migrations recorded that
// this binary does not know: it was migrated by a newer obank, and an older
// binary must not serve (or write) a schema it does not understand.
var ErrSchemaAhead = errors.New("sqlstore: database schema is newer than this binary")

// ErrSchemaBehind is returned by Check when migrations are pending.
var ErrSchemaBehind = errors.New("sqlstore: database schema is older than this binary; run obank migrate")

// Migrator applies a dialect's embedded migrations: the *.sql files at the
// root of FS, in name order (0001_init.sql, 0002_...), each in its own
// transaction, recorded by name in schema_migrations.
type Migrator struct {
	DB *sql.DB
	FS fs.FS
	// Now stamps applied migrations; time.Now when nil.
	Now func() time.Time
	// Lock, when set, is called on the connection that will run the
	// migrations before anything is read, and the returned unlock after.
	// PostgreSQL takes a session advisory lock there, so processes starting
	// together migrate one after the other. SQLite needs none: its
	// migration transactions are IMMEDIATE and re-check the log.
	Lock func(ctx context.Context, conn *sql.Conn) (unlock func() error, err error)
}

// Migrate applies the pending migrations and returns their names. It refuses
// with ErrSchemaAhead a database that recorded migrations it does not have.
func (m *Migrator) Migrate(ctx context.Context) (applied []string, err error) {
	return m.run(ctx, true)
}

// Check returns nil when the database is exactly at the binary's schema,
// ErrSchemaAhead or ErrSchemaBehind otherwise. It changes nothing except
// creating the (empty) migration log in a new database.
func (m *Migrator) Check(ctx context.Context) error {
	pending, err := m.run(ctx, false)
	if err != nil {
		return err
	}
	if len(pending) > 0 {
		return fmt.Errorf("%w (pending: %s)", ErrSchemaBehind, strings.Join(pending, ", "))
	}
	return nil
}

// run lists the pending migrations and, if apply is set, applies them.
func (m *Migrator) run(ctx context.Context, apply bool) (names []string, err error) {
	files, err := fs.Glob(m.FS, "*.sql")
	if err != nil {
		return nil, fmt.Errorf("sqlstore: migrate: list migrations: %w", err)
	}
	if len(files) == 0 {
		return nil, errors.New("sqlstore: migrate: no migrations embedded")
	}
	slices.Sort(files)

	conn, err := m.DB.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: migrate: %w", err)
	}
	defer conn.Close()
	if m.Lock != nil {
		unlock, err := m.Lock(ctx, conn)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: migrate: lock: %w", err)
		}
		defer func() {
			if uerr := unlock(); uerr != nil && err == nil {
				err = fmt.Errorf("sqlstore: migrate: unlock: %w", uerr)
			}
		}()
	}

	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		name TEXT PRIMARY KEY,
		applied_at BIGINT NOT NULL)`); err != nil {
		return nil, fmt.Errorf("sqlstore: migrate: create schema_migrations: %w", err)
	}
	done, err := appliedMigrations(ctx, conn)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: migrate: %w", err)
	}
	known := make(map[string]bool, len(files))
	for _, f := range files {
		known[migrationName(f)] = true
	}
	var unknown []string
	for name := range done {
		if !known[name] {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return nil, fmt.Errorf("%w: the database has %s, the newest this binary knows is %s; upgrade obank",
			ErrSchemaAhead, strings.Join(unknown, ", "), migrationName(files[len(files)-1]))
	}

	for _, f := range files {
		name := migrationName(f)
		if done[name] {
			continue
		}
		if !apply {
			names = append(names, name)
			continue
		}
		ran, err := m.apply(ctx, conn, f, name)
		if err != nil {
			return names, err
		}
		if ran {
			names = append(names, name)
		}
	}
	return names, nil
}

// apply runs one migration file in its own transaction and records it. It
// reports false when another process recorded the migration first.
func (m *Migrator) apply(ctx context.Context, conn *sql.Conn, file, name string) (bool, error) {
	body, err := fs.ReadFile(m.FS, file)
	if err != nil {
		return false, fmt.Errorf("sqlstore: migrate %s: %w", name, err)
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("sqlstore: migrate %s: begin: %w", name, err)
	}
	defer tx.Rollback()
	// Re-check inside the transaction: on SQLite it holds the write lock,
	// so a process that migrated meanwhile is seen here.
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE name = $1`, name).Scan(&n); err != nil {
		return false, fmt.Errorf("sqlstore: migrate %s: %w", name, err)
	}
	if n > 0 {
		return false, nil
	}
	// No arguments: both drivers then accept several statements in one Exec.
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return false, fmt.Errorf("sqlstore: migrate %s: %w", name, err)
	}
	now := time.Now
	if m.Now != nil {
		now = m.Now
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES ($1, $2)`,
		name, micros(now())); err != nil {
		return false, fmt.Errorf("sqlstore: migrate %s: record: %w", name, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("sqlstore: migrate %s: commit: %w", name, err)
	}
	return true, nil
}

func appliedMigrations(ctx context.Context, conn *sql.Conn) (map[string]bool, error) {
	rows, err := conn.QueryContext(ctx, `SELECT name FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	defer rows.Close()
	done := make(map[string]bool)
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("read schema_migrations: %w", err)
		}
		done[name] = true
	}
	return done, rows.Err()
}

// migrationName is the file name without its .sql extension.
func migrationName(file string) string { return strings.TrimSuffix(path.Base(file), ".sql") }
