package postgres

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/obank/obank/internal/sqlstore"
)

// pipelineDB opens the driver on a fresh schema with one table, t, and one
// connection, so every transaction below runs on the same one and a
// transaction left open would block the next. (pgtest cannot be used here:
// it imports this package.)
func pipelineDB(t *testing.T) *sql.DB {
	t.Helper()
	base := os.Getenv("OBANK_TEST_POSTGRES_DSN")
	if base == "" {
		t.Skip("OBANK_TEST_POSTGRES_DSN not set: skipping PostgreSQL store tests")
	}
	ctx := context.Background()
	schema := "obtest_" + strings.ToLower(rand.Text()[:12])
	admin, err := openDB(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("drop schema: %v", err)
		}
		admin.Close()
	})
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.ExecContext(ctx, `CREATE TABLE `+schema+`.t (id INT PRIMARY KEY, v TEXT NOT NULL DEFAULT '')`); err != nil {
		t.Fatal(err)
	}
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	db, err := openDB(ctx, base+sep+"search_path="+schema)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

func rowsOf(t *testing.T, db *sql.DB) map[int]string {
	t.Helper()
	rows, err := db.Query(`SELECT id, v FROM t ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[int]string{}
	for rows.Next() {
		var (
			id int
			v  string
		)
		if err := rows.Scan(&id, &v); err != nil {
			t.Fatal(err)
		}
		got[id] = v
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestHeldWrites(t *testing.T) {
	db := pipelineDB(t)
	ctx := context.Background()
	held := sqlstore.HoldWrites(ctx)

	t.Run("queries and RowsAffected see the held writes, in order", func(t *testing.T) {
		tx, err := db.BeginTx(held, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO t (id, v) VALUES ($1, $2)`)
		if err != nil {
			t.Fatal(err)
		}
		buf := []byte("first")
		for i, q := range []struct {
			query string
			args  []any
		}{
			{`INSERT INTO t (id, v) VALUES (1, $1)`, []any{buf}},
			{`UPDATE t SET v = v || '+' WHERE id = 1`, nil},
		} {
			if _, err := tx.ExecContext(ctx, q.query, q.args...); err != nil {
				t.Fatalf("statement %d: %v", i, err)
			}
		}
		copy(buf, "XXXXX") // the driver held a copy
		if _, err := stmt.ExecContext(ctx, 2, "two"); err != nil {
			t.Fatal(err)
		}
		// The update must run after the prepared insert it follows.
		res, err := tx.ExecContext(ctx, `UPDATE t SET v = v || '!' WHERE id IN (1, 2)`)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 2 {
			t.Fatalf("RowsAffected = %d, %v; want 2", n, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO t (id) VALUES (3)`); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM t`).Scan(&n); err != nil || n != 3 {
			t.Fatalf("count in the transaction = %d, %v; want 3", n, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO t (id) VALUES (4)`); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		want := map[int]string{1: "first+!", 2: "two!", 3: "", 4: ""}
		if got := rowsOf(t, db); len(got) != len(want) || got[1] != want[1] || got[2] != want[2] || got[4] != "" {
			t.Fatalf("rows %v, want %v", got, want)
		}
	})

	t.Run("a query sent with held statements reads every type", func(t *testing.T) {
		tx, err := db.BeginTx(held, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		// The BEGIN is held: it goes with the query.
		var (
			txt    string
			big    int64
			i4, i2 int
			blob   []byte
			null   sql.NullString
			sum    string
			yes    bool
			count  int
		)
		err = tx.QueryRowContext(ctx, `SELECT CAST('hé' AS TEXT), CAST(9007199254740993 AS BIGINT), CAST(-7 AS INTEGER),
			CAST(3 AS SMALLINT), CAST('\x00ff' AS BYTEA), CAST(NULL AS TEXT), SUM(id), EXISTS (SELECT 1 FROM t), COUNT(*)
			FROM t`).Scan(&txt, &big, &i4, &i2, &blob, &null, &sum, &yes, &count)
		if err != nil {
			t.Fatal(err)
		}
		if txt != "hé" || big != 9007199254740993 || i4 != -7 || i2 != 3 || string(blob) != "\x00\xff" || null.Valid ||
			sum != "10" || !yes || count != 4 {
			t.Errorf("values %q %d %d %d %x %v %q %v %d", txt, big, i4, i2, blob, null, sum, yes, count)
		}
		// Rows over several reads, after a held write.
		if _, err := tx.ExecContext(ctx, `UPDATE t SET v = 'seen' WHERE id = 3`); err != nil {
			t.Fatal(err)
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, v FROM t ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for rows.Next() {
			var (
				id int
				v  string
			)
			if err := rows.Scan(&id, &v); err != nil {
				t.Fatal(err)
			}
			got = append(got, v)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			t.Fatal(err)
		}
		if len(got) != 4 || got[2] != "seen" {
			t.Errorf("rows %q", got)
		}
	})

	t.Run("a held statement's error comes at the commit, and nothing is written", func(t *testing.T) {
		tx, err := db.BeginTx(held, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		for _, id := range []int{10, 1, 11} { // 1 exists
			if _, err := tx.ExecContext(ctx, `INSERT INTO t (id) VALUES ($1)`, id); err != nil {
				t.Fatalf("held insert %d: %v", id, err)
			}
		}
		err = tx.Commit()
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "23505" {
			t.Fatalf("Commit = %v, want a unique violation", err)
		}
		if got := rowsOf(t, db); len(got) != 4 {
			t.Fatalf("rows after the failed commit %v, want the 4 from before", got)
		}
	})

	t.Run("a held statement's error comes at the next query", func(t *testing.T) {
		tx, err := db.BeginTx(held, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO t (id) VALUES (1)`); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM t`).Scan(&n); err == nil {
			t.Fatal("the query after a failed held insert succeeded")
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("a rollback drops what is held", func(t *testing.T) {
		for _, query := range []bool{false, true} {
			tx, err := db.BeginTx(held, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO t (id) VALUES (20)`); err != nil {
				t.Fatal(err)
			}
			if query { // the BEGIN and the insert reach the server first
				if _, err := tx.ExecContext(ctx, `SELECT 1`); err != nil {
					t.Fatal(err)
				}
				var one int
				if err := tx.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
					t.Fatal(err)
				}
			}
			if err := tx.Rollback(); err != nil {
				t.Fatal(err)
			}
			if got := rowsOf(t, db); len(got) != 4 {
				t.Fatalf("rows after rollback (query %v) %v, want the 4 from before", query, got)
			}
		}
	})

	t.Run("other transactions are not held", func(t *testing.T) {
		for _, c := range []struct {
			ctx  context.Context
			opts *sql.TxOptions
		}{
			{ctx, nil},
			{held, &sql.TxOptions{Isolation: sql.LevelRepeatableRead}},
		} {
			tx, err := db.BeginTx(c.ctx, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO t (id) VALUES (1)`); err == nil {
				t.Errorf("insert of a duplicate in a plain transaction (%v) succeeded", c.opts)
			}
			tx.Rollback()
		}
	})
}
