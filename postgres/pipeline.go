package postgres

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/obank/obank/internal/sqlstore"
)

// The store's write transactions are chatty: a payment is a dozen INSERTs
// and UPDATEs whose results nobody reads, between a few SELECTs that do read
// theirs. Sent one by one, each statement is a round trip to the server (two
// context switches on each side and a wait for the network); held back and
// sent together, in one pipeline with the next query or the COMMIT, they
// cost one. This file wraps pgx's database/sql driver so that a transaction
// begun with a context marked by sqlstore.HoldWrites does that: its BEGIN and
// its Exec statements wait in a pgx.Batch, which goes out (and is read back)
// before its next Query, when a held statement's RowsAffected is asked for,
// or with its COMMIT. The statements run in the order they were made, on the
// server, inside the transaction, exactly as if sent one by one; only an Exec
// error surfaces later, at the next query or the commit, and a transaction
// on PostgreSQL cannot go on past a failed statement anyway.
//
// Other transactions, and statements outside transactions, go straight to
// pgx as before.

// pipelineConnector makes the connections of Open's pool.
type pipelineConnector struct {
	base driver.Connector // stdlib's, for the DSN
}

func (c pipelineConnector) Connect(ctx context.Context) (driver.Conn, error) {
	dc, err := c.base.Connect(ctx)
	if err != nil {
		return nil, err
	}
	sc, ok := dc.(*stdlib.Conn)
	if !ok {
		dc.Close()
		return nil, fmt.Errorf("postgres: the pgx driver made a %T, not a *stdlib.Conn", dc)
	}
	return &pipelineConn{Conn: sc}, nil
}

func (c pipelineConnector) Driver() driver.Driver { return c.base.Driver() }

// pipelineConn is one connection: stdlib's, with the held transaction's
// statements routed through tx.
type pipelineConn struct {
	*stdlib.Conn
	tx *heldTx // the transaction holding its writes, nil outside one
}

var (
	_ driver.ConnBeginTx        = (*pipelineConn)(nil)
	_ driver.ExecerContext      = (*pipelineConn)(nil)
	_ driver.QueryerContext     = (*pipelineConn)(nil)
	_ driver.ConnPrepareContext = (*pipelineConn)(nil)
	_ driver.SessionResetter    = (*pipelineConn)(nil)
	_ driver.NamedValueChecker  = (*pipelineConn)(nil)
)

func (c *pipelineConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

// BeginTx holds the BEGIN of a read-write transaction at the default
// isolation level whose context asks for it; any other goes to pgx.
func (c *pipelineConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if c.tx != nil {
		return nil, errors.New("postgres: a transaction is already open on this connection")
	}
	if !sqlstore.WritesHeld(ctx) || opts.ReadOnly || opts.Isolation != driver.IsolationLevel(0) {
		return c.Conn.BeginTx(ctx, opts)
	}
	if c.Conn.Conn().IsClosed() {
		return nil, driver.ErrBadConn
	}
	t := &heldTx{c: c, ctx: ctx}
	t.queue("begin", nil, nil)
	c.tx = t
	return t, nil
}

// ExecContext holds the statement when a held transaction is open.
func (c *pipelineConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if c.tx == nil {
		return c.Conn.ExecContext(ctx, query, args)
	}
	r := &heldResult{t: c.tx}
	c.tx.ctx = ctx
	c.tx.queue(query, heldArgs(args), r)
	return r, nil
}

// QueryContext sends the held statements first, in the same round trip:
// the query must see them.
func (c *pipelineConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if c.tx != nil && c.tx.batch.Len() > 0 {
		c.tx.ctx = ctx
		return c.tx.flushQuery(ctx, query, heldArgs(args))
	}
	return c.Conn.QueryContext(ctx, query, args)
}

func (c *pipelineConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

// PrepareContext returns a statement that runs its text through the
// connection, so that it is held like any other in a held transaction and
// keeps its place among them. It prepares nothing on the server: pgx's
// statement cache prepares each text once per connection on its first use,
// which saves the round trip of a separate PREPARE.
func (c *pipelineConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if c.Conn.Conn().IsClosed() {
		return nil, driver.ErrBadConn
	}
	return &pipelineStmt{c: c, query: query}, nil
}

// ResetSession ends a held transaction that was left open before the
// connection goes back to the pool (database/sql always ends them; this is
// a backstop).
func (c *pipelineConn) ResetSession(ctx context.Context) error {
	if t := c.tx; t != nil {
		c.tx = nil
		if t.begun {
			if err := t.rollback(); err != nil {
				return driver.ErrBadConn
			}
		}
	}
	return c.Conn.ResetSession(ctx)
}

// heldArgs copies the arguments of a held statement, byte slices included:
// the caller may reuse its buffers once Exec has returned.
func heldArgs(args []driver.NamedValue) []any {
	out := make([]any, len(args))
	for i, a := range args {
		switch v := a.Value.(type) {
		case []byte:
			out[i] = slices.Clone(v)
		case json.RawMessage:
			out[i] = slices.Clone(v)
		default:
			out[i] = v
		}
	}
	return out
}

// heldTx is a transaction whose BEGIN and Exec statements wait in batch.
type heldTx struct {
	c       *pipelineConn
	ctx     context.Context // of the latest statement, for a flush that has none
	batch   pgx.Batch
	results []*heldResult // one per queued statement; nil for BEGIN
	begun   bool          // the BEGIN has reached the server
}

func (t *heldTx) queue(query string, args []any, r *heldResult) {
	t.batch.Queue(query, args...)
	t.results = append(t.results, r)
}

// send sends the held statements, and last when it is not "", in one
// batch, reads the held statements' outcomes into their results and
// returns the batch, positioned at last's result, with the first error and
// the command tag of the last held statement.
func (t *heldTx) send(ctx context.Context, last string, args []any) (pgx.BatchResults, string, error) {
	held := t.results
	if last != "" {
		t.queue(last, args, nil)
	}
	batch := t.batch
	t.batch, t.results = pgx.Batch{}, nil
	t.begun = true
	br := t.c.Conn.Conn().SendBatch(ctx, &batch)
	var (
		first   error
		lastTag string
	)
	for _, r := range held {
		tag, err := br.Exec()
		if err != nil && first == nil {
			first = err
		}
		if r != nil {
			r.done, r.rows, r.err = true, tag.RowsAffected(), err
		}
		lastTag = tag.String()
	}
	return br, lastTag, first
}

// flush sends the held statements, then tail (the COMMIT), in one round
// trip and records each statement's outcome. It returns the first error.
func (t *heldTx) flush(ctx context.Context, tail ...string) error {
	for _, q := range tail {
		t.queue(q, nil, nil)
	}
	if t.batch.Len() == 0 {
		return nil
	}
	br, lastTag, first := t.send(ctx, "", nil)
	if err := br.Close(); err != nil && first == nil {
		first = err
	}
	if first == nil && len(tail) > 0 && tail[len(tail)-1] == "commit" && lastTag != "COMMIT" {
		// PostgreSQL answers ROLLBACK to the COMMIT of a transaction that
		// had failed: nothing was written.
		first = pgx.ErrTxCommitRollback
	}
	return first
}

// flushQuery sends the held statements and then query in one round trip,
// and returns query's rows, which hold the connection until closed. A held
// statement's error is the query's.
func (t *heldTx) flushQuery(ctx context.Context, query string, args []any) (driver.Rows, error) {
	br, _, first := t.send(ctx, query, args)
	rows, err := br.Query()
	if first == nil {
		first = err
	}
	if first != nil {
		rows.Close()
		br.Close()
		return nil, first
	}
	return &batchRows{rows: rows, br: br}, nil
}

// Commit sends what is held and the COMMIT together. When a held statement
// failed, the COMMIT never ran and the transaction is rolled back.
func (t *heldTx) Commit() error {
	defer t.end()
	if !t.begun && len(t.results) == 1 {
		return nil // nothing but the BEGIN: nothing to do
	}
	err := t.flush(t.ctx, "commit")
	if err != nil && !errors.Is(err, pgx.ErrTxCommitRollback) {
		t.rollback()
	}
	return err
}

// Rollback drops what is held and ends the transaction on the server, if
// it began there.
func (t *heldTx) Rollback() error {
	defer t.end()
	if !t.begun {
		return nil
	}
	return t.rollback()
}

func (t *heldTx) rollback() error {
	// The request's context may be done (that may be why it rolls back);
	// the connection must leave the transaction all the same.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := t.c.Conn.Conn().Exec(ctx, "rollback"); err != nil {
		return err
	}
	return nil
}

func (t *heldTx) end() {
	if t.c.tx == t {
		t.c.tx = nil
	}
	t.batch, t.results = pgx.Batch{}, nil
}

// heldResult is the result of a held statement, known once it was sent.
type heldResult struct {
	t    *heldTx
	done bool
	rows int64
	err  error
}

func (r *heldResult) LastInsertId() (int64, error) {
	return 0, errors.New("postgres: LastInsertId is not supported")
}

// RowsAffected sends the held statements if this one is among them.
func (r *heldResult) RowsAffected() (int64, error) {
	if !r.done {
		if r.t.c.tx != r.t {
			return 0, errors.New("postgres: the statement's transaction ended before it was sent")
		}
		if err := r.t.flush(r.t.ctx); err != nil && r.err == nil && !r.done {
			return 0, err
		}
	}
	return r.rows, r.err
}

// pipelineStmt is a "prepared" statement: its text, run on its connection.
type pipelineStmt struct {
	c     *pipelineConn
	query string
}

func (s *pipelineStmt) Close() error  { return nil }
func (s *pipelineStmt) NumInput() int { return -1 }

func (s *pipelineStmt) Exec([]driver.Value) (driver.Result, error) {
	return nil, errors.New("postgres: Stmt.Exec is not supported, use ExecContext")
}

func (s *pipelineStmt) Query([]driver.Value) (driver.Rows, error) {
	return nil, errors.New("postgres: Stmt.Query is not supported, use QueryContext")
}

func (s *pipelineStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	return s.c.ExecContext(ctx, s.query, args)
}

func (s *pipelineStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	return s.c.QueryContext(ctx, s.query, args)
}

// batchRows are the rows of a query sent at the end of a batch, as
// database/sql reads them. Values arrive decoded by pgx and are handed on as
// the driver.Value types database/sql knows; the schema's column types
// (TEXT, BIGINT, INTEGER, SMALLINT, BYTEA) and the aggregates over them all
// map to one.
type batchRows struct {
	rows pgx.Rows
	br   pgx.BatchResults
}

func (r *batchRows) Columns() []string {
	fds := r.rows.FieldDescriptions()
	names := make([]string, len(fds))
	for i, fd := range fds {
		names[i] = fd.Name
	}
	return names
}

func (r *batchRows) Close() error {
	r.rows.Close()
	err := r.rows.Err()
	if cerr := r.br.Close(); err == nil {
		err = cerr
	}
	return err
}

func (r *batchRows) Next(dest []driver.Value) error {
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return io.EOF
	}
	vals, err := r.rows.Values()
	if err != nil {
		return err
	}
	for i, v := range vals {
		if dest[i], err = driverValue(v); err != nil {
			return fmt.Errorf("postgres: column %s: %w", r.rows.FieldDescriptions()[i].Name, err)
		}
	}
	return nil
}

// driverValue converts what pgx decoded to a driver.Value.
func driverValue(v any) (driver.Value, error) {
	switch v := v.(type) {
	case nil, int64, float64, bool, string, time.Time:
		return v, nil
	case []byte:
		return slices.Clone(v), nil
	case int32:
		return int64(v), nil
	case int16:
		return int64(v), nil
	case float32:
		return float64(v), nil
	case driver.Valuer: // pgtype's numeric and the like
		return v.Value()
	}
	return nil, fmt.Errorf("a %T is not a value database/sql reads", v)
}
