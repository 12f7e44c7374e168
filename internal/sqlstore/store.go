// Package sqlstore implements ob.Store over database/sql with hand-written
// SQL that runs unchanged on SQLite (modernc.org/sqlite) and PostgreSQL (pgx
// stdlib). Both drivers bind $1, $2... by number, so one query text serves
// both; what differs between the engines (error codes, parameter limits,
// isolation of read transactions, the schema files) is carried by a Dialect
// and by the sqlite and postgres packages that build a Store.
//
// Every time is stored as BIGINT unix microseconds in UTC and every amount as
// BIGINT minor units plus a TEXT currency, so values compare and round-trip
// exactly on both engines. Nested optional structures (agents, addresses,
// identification lists, statement lines) are stored as JSON text through the
// private row types in json.go; the ob types carry no JSON tags and the
// stored shape must not change when a Go field is renamed. A transaction's
// optional parts, read a hundred at a time on the hot path, use the compact
// encoding of txparts.go instead.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/obank/obank/internal/keystore"
	"github.com/obank/obank/ob"
)

// Dialect carries what differs between the SQL engines.
type Dialect struct {
	// Name names the engine in errors ("sqlite", "postgres").
	Name string
	// IsUniqueViolation reports whether err is a driver error for a violated
	// primary key or unique constraint; the store returns such errors as
	// ob.ErrConflict.
	IsUniqueViolation func(err error) bool
	// MaxParams is the most bind parameters one statement may carry
	// (SQLite 32766, PostgreSQL 65535). Multi-row inserts stay below it.
	MaxParams int
	// BarePlaceholders makes multi-row INSERTs use "?" instead of "$N".
	// modernc.org/sqlite looks every numbered parameter's name up in a
	// list while binding, so binding a statement with n "$N" parameters
	// costs O(n²): with 500-row batches that was 85% of a 150,000-row
	// import. Bare "?" parameters have no name. Ordinary queries have few
	// parameters and keep "$N", which PostgreSQL requires.
	BarePlaceholders bool
	// ReadTx are the options of the read-only transactions that group the
	// queries of one page of transactions. PostgreSQL wants REPEATABLE READ
	// so the count and the rows agree; SQLite's deferred read transaction is
	// already a snapshot and its driver accepts only the default isolation.
	ReadTx sql.TxOptions
}

// Store implements ob.Store. Create it with New; the sqlite and postgres
// packages do so after opening and migrating the database.
//
// The store has no clock of its own: every time it writes comes from the
// caller (RevokeGrant's at, the records' own times), so tests control time
// without one. The Migrator, which stamps the migration log, takes a Now.
type Store struct {
	w, r    *sql.DB
	dialect Dialect
	stmts   stmtCache // prepared on r
	// sealer seals customers' TOTP secrets at rest (secrets.go); nil keeps
	// them as given.
	sealer *keystore.Sealer
}

var _ ob.Store = (*Store)(nil)

// New returns a store that writes through w and reads through r. They may be
// the same *sql.DB; SQLite uses a single-connection writer and a pool of
// readers, because it allows one writer at a time. Close closes both.
func New(w, r *sql.DB, d Dialect) *Store {
	if r == nil {
		r = w
	}
	return &Store{w: w, r: r, dialect: d}
}

// Close closes the database handles.
func (s *Store) Close() error {
	s.stmts.close()
	err := s.w.Close()
	if s.r != s.w {
		err = errors.Join(err, s.r.Close())
	}
	return err
}

// Ping checks that both the writer and the reader answer.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.w.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlstore: ping: %w", err)
	}
	if s.r != s.w {
		if err := s.r.PingContext(ctx); err != nil {
			return fmt.Errorf("sqlstore: ping reader: %w", err)
		}
	}
	return nil
}

// Empty reports whether the bank holds no customers.
func (s *Store) Empty(ctx context.Context) (bool, error) {
	var exists bool
	if err := s.r.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM customers)`).Scan(&exists); err != nil {
		return false, fmt.Errorf("sqlstore: empty: %w", err)
	}
	return !exists, nil
}

// wrapErr adds context to a database error and turns a uniqueness violation
// into ob.ErrConflict, keeping the driver error in the chain for logs.
func (s *Store) wrapErr(err error, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if s.dialect.IsUniqueViolation != nil && s.dialect.IsUniqueViolation(err) {
		return fmt.Errorf("sqlstore: %s: %w: %w", msg, ob.ErrConflict, err)
	}
	return fmt.Errorf("sqlstore: %s: %w", msg, err)
}

// querier is what *sql.DB and *sql.Tx have in common. Helpers take it so an
// exported method can run a single statement on the pool directly (it is
// atomic on its own, and a transaction would cost two more round trips on
// PostgreSQL) or several inside one transaction.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// scanner is *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// extraScanner reads a row that has columns before and after those of a
// row type: it scans them into before and after, and the row type's own
// columns into what its scan function asks for.
type extraScanner struct {
	rows          *sql.Rows
	before, after []any
}

func (e extraScanner) Scan(dest ...any) error {
	return e.rows.Scan(slices.Concat(e.before, dest, e.after)...)
}

// params collects bind arguments while a query is built, handing out their
// $N placeholders.
type params []any

// add appends v and returns its placeholder.
func (p *params) add(v any) string {
	*p = append(*p, v)
	return "$" + strconv.Itoa(len(*p))
}

// in appends the ids and returns a parenthesised placeholder list for IN.
// The caller makes sure ids is not empty.
func (p *params) in(ids []string) string {
	var b strings.Builder
	b.WriteByte('(')
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(p.add(id))
	}
	b.WriteByte(')')
	return b.String()
}

// micros converts a time to the stored form: unix microseconds. Sub-microsecond
// digits are dropped; PostgreSQL could not keep them either.
func micros(t time.Time) int64 { return t.UnixMicro() }

// fromMicros converts a stored time back, in UTC.
func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// nullMicros stores an optional time; nil becomes NULL.
func nullMicros(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMicro()
}

// timePtr converts an optional stored time back.
func timePtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

// nullString stores an optional reference; "" becomes NULL (for columns with
// a foreign key, such as a token's grant id).
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// nullMoney stores an optional amount in two nullable columns.
func nullMoney(m *ob.Money) (minor, currency any) {
	if m == nil {
		return nil, nil
	}
	return m.Minor, m.Currency
}

// moneyCols scans the two columns nullMoney writes.
type moneyCols struct {
	Minor    sql.NullInt64
	Currency sql.NullString
}

func (m *moneyCols) ptr() *ob.Money {
	if !m.Minor.Valid {
		return nil
	}
	return &ob.Money{Minor: m.Minor.Int64, Currency: m.Currency.String}
}

// heldWritesKey marks a context with HoldWrites.
type heldWritesKey struct{}

// HoldWrites marks ctx for a write transaction whose driver may hold back
// its Exec statements and send them together with its next query, its
// COMMIT or the first RowsAffected asked of one of them, in one round trip
// (the postgres package's driver does). Code running in such a transaction
// reads nothing from an Exec but its error and RowsAffected, knows that an
// Exec error may surface only at the next query or the commit (on
// PostgreSQL a failed statement ends the transaction anyway, and the commit's
// error goes through wrapErr, so a unique violation is still ob.ErrConflict),
// and does not change an argument after passing it (the driver copies byte
// slices, not what pointers point to).
func HoldWrites(ctx context.Context) context.Context {
	return context.WithValue(ctx, heldWritesKey{}, true)
}

// WritesHeld reports whether ctx was marked by HoldWrites.
func WritesHeld(ctx context.Context) bool {
	held, _ := ctx.Value(heldWritesKey{}).(bool)
	return held
}
