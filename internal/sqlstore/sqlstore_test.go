package sqlstore

import (
	"testing"
	"time"
)

// The store's behaviour is tested through obtest.RunStoreTests from the
// sqlite and postgres packages; these are the pure helpers.

func TestInserterQuery(t *testing.T) {
	for _, tc := range []struct {
		bare bool
		want string
	}{
		{false, "INSERT INTO t (a, b) VALUES ($1,$2),($3,$4)"},
		{true, "INSERT INTO t (a, b) VALUES (?,?),(?,?)"},
	} {
		b := newInserter(nil, Dialect{MaxParams: 100, BarePlaceholders: tc.bare}, "t", []string{"a", "b"})
		if got := b.query(2); got != tc.want {
			t.Errorf("query(2) with bare=%v = %q, want %q", tc.bare, got, tc.want)
		}
	}
	// Batches stay below the engine's parameter limit.
	if b := newInserter(nil, Dialect{MaxParams: 10}, "t", []string{"a", "b", "c"}); b.perStmt != 3 {
		t.Errorf("perStmt with 10 params and 3 columns = %d, want 3", b.perStmt)
	}
}

func TestParams(t *testing.T) {
	var p params
	first := p.add("x")
	in := p.in([]string{"a", "b"})
	if first != "$1" || in != "($2,$3)" || len(p) != 3 {
		t.Errorf("add, in = %q, %q (%d args); want $1, ($2,$3) (3 args)", first, in, len(p))
	}
}

func TestMicros(t *testing.T) {
	in := time.Date(2026, 1, 2, 3, 4, 5, 678901234, time.FixedZone("X", 3600))
	got := fromMicros(micros(in))
	want := time.Date(2026, 1, 2, 2, 4, 5, 678901000, time.UTC)
	if !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("fromMicros(micros(%v)) = %v, want %v", in, got, want)
	}
	if z := fromMicros(micros(time.Time{})); !z.IsZero() {
		t.Errorf("zero time round-trips to %v, want the zero time", z)
	}
}
