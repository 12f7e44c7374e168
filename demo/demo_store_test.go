package demo_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/obank/obank/demo"
	"github.com/obank/obank/ob"
	"github.com/obank/obank/sqlite"
)

// TestSeedSQLite seeds a fresh SQLite store with the default demo bank, as
// a server does on first start, and reports how long it takes: the budget
// for Generate plus Import is five seconds.
func TestSeedSQLite(t *testing.T) {
	if testing.Short() || raceEnabled {
		// Under the race detector the pure-Go SQLite is ten times slower
		// and the figure means nothing; sqlite's own tests race Import.
		t.Skip("seeds 100k+ transactions; a timing test")
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "obank.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	t0 := time.Now()
	data, logins, err := demo.Generate(demo.Config{Anchor: anchor})
	if err != nil {
		t.Fatal(err)
	}
	generated := time.Since(t0)
	if err := st.Import(ctx, data); err != nil {
		t.Fatal(err)
	}
	total := time.Since(t0)
	t.Logf("seeded %d customers, %d accounts, %d transactions: Generate %v, Import %v, total %v",
		len(data.Customers), len(data.Accounts), len(data.Transactions), generated, total-generated, total)
	if total > 5*time.Second {
		t.Errorf("seeding took %v, over the 5s budget", total)
	}

	// What went in comes back out.
	c, err := st.CustomerByUsername(ctx, logins[0].Username)
	if err != nil || c.ID != logins[0].CustomerID {
		t.Fatalf("CustomerByUsername(%q) = %s, %v", logins[0].Username, c.ID, err)
	}
	accounts, err := st.AccountsByCustomer(ctx, c.ID)
	if err != nil || len(accounts) < 2 {
		t.Fatalf("AccountsByCustomer = %d accounts, %v", len(accounts), err)
	}
	want := 0
	for _, tx := range data.Transactions {
		if tx.AccountID == accounts[0].ID {
			want++
		}
	}
	page, err := st.Transactions(ctx, ob.TransactionQuery{AccountIDs: []string{accounts[0].ID}, Credits: true, Debits: true, PageSize: 25})
	if err != nil || page.Total != want {
		t.Fatalf("Transactions of %s: total %d, %v; want %d", accounts[0].ID, page.Total, err, want)
	}
	if empty, err := st.Empty(ctx); err != nil || empty {
		t.Fatalf("Empty() = %v, %v after seeding", empty, err)
	}
}
