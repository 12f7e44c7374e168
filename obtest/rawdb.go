package obtest

import (
	"database/sql"
	"sync"
	"testing"
)

// RawStores remembers where each test store keeps its data, so that a test
// can reach the database behind the store's back (to tamper with it, or to
// read what it stored). Driver is the database/sql driver name and Suffix
// is appended to the recorded DSN or path when opening it.
type RawStores struct {
	Driver, Suffix string

	mu    sync.Mutex
	where map[any]string
}

// Add records where store s keeps its data.
func (r *RawStores) Add(s any, dsn string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.where == nil {
		r.where = map[any]string{}
	}
	r.where[s] = dsn
}

// DB opens s's database directly; it is closed when the test ends.
func (r *RawStores) DB(t *testing.T, s any) *sql.DB {
	t.Helper()
	r.mu.Lock()
	dsn := r.where[s]
	r.mu.Unlock()
	db, err := sql.Open(r.Driver, dsn+r.Suffix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
