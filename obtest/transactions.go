package obtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/obank/obank/ob"
)

// pagingBank returns the fixture's customers and accounts with a generated
// history: 53 transactions on Acc1 in groups of three sharing a booking time,
// and 21 on Acc2 whose times coincide with Acc1's. Amounts mix credits,
// debits and zero (a credit). Rows are shuffled so that insertion order is not
// listing order.
func pagingBank() *ob.BankData {
	d := Fixture()
	base := FixtureTime()
	var txs []ob.Transaction
	add := func(account string, n int, group int) {
		for i := range n {
			amount := int64(100 + i)
			switch {
			case i%5 == 0:
				amount = 0
			case i%3 == 0:
				amount = -amount
			}
			txs = append(txs, ob.Transaction{
				ID:              fmt.Sprintf("p-%s-%02d", account, i),
				AccountID:       account,
				Status:          ob.TxBooked,
				BookingDateTime: base.Add(-time.Duration(i/group) * time.Hour),
				Amount:          gbp(amount),
			})
		}
	}
	add(Acc1, 53, 3)
	add(Acc2, 21, 2)
	r := rand.New(rand.NewPCG(1, 2))
	r.Shuffle(len(txs), func(i, j int) { txs[i], txs[j] = txs[j], txs[i] })
	return &ob.BankData{Customers: d.Customers, Accounts: d.Accounts, Transactions: txs}
}

// model is the reference implementation of a listing: it filters and
// orders in memory what the store must compute in SQL.
func model(all []ob.Transaction, q ob.TransactionQuery, from, to *time.Time) []ob.Transaction {
	var out []ob.Transaction
	for _, tx := range all {
		switch {
		case !slices.Contains(q.AccountIDs, tx.AccountID),
			from != nil && tx.BookingDateTime.Before(*from),
			to != nil && tx.BookingDateTime.After(*to),
			tx.IsCredit() && !q.Credits,
			!tx.IsCredit() && !q.Debits:
			continue
		}
		out = append(out, tx)
	}
	slices.SortFunc(out, compareNewestFirst)
	return out
}

func ids(txs []ob.Transaction) []string {
	var out []string
	for _, tx := range txs {
		out = append(out, tx.ID)
	}
	return out
}

func keyOf(tx ob.Transaction) ob.TxKey {
	return ob.TxKey{BookingDateTime: tx.BookingDateTime, ID: tx.ID}
}

func mustPage(t *testing.T, s ob.Store, q ob.TransactionQuery) ob.TransactionPage {
	t.Helper()
	p, err := s.Transactions(context.Background(), q)
	if err != nil {
		t.Fatalf("Transactions(%+v): %v", q.Cursor, err)
	}
	return p
}

// walk pages through the listing with CursorAfter and returns the pages.
func walk(t *testing.T, s ob.Store, q ob.TransactionQuery) [][]ob.Transaction {
	t.Helper()
	q.Cursor = ob.TxCursor{Snapshot: q.Cursor.Snapshot}
	first := mustPage(t, s, q)
	total, snapshot := first.Total, first.Snapshot
	pages := [][]ob.Transaction{first.Transactions}
	for p := first; len(p.Transactions) == q.PageSize; {
		last := p.Transactions[len(p.Transactions)-1]
		q.Cursor = ob.TxCursor{Snapshot: snapshot, Mode: ob.CursorAfter, Key: keyOf(last), Page: len(pages) + 1}
		p = mustPage(t, s, q)
		if p.Total != total || p.Snapshot != snapshot {
			t.Fatalf("page %d: Total, Snapshot = %d, %d; first page had %d, %d", len(pages)+1, p.Total, p.Snapshot, total, snapshot)
		}
		if len(p.Transactions) == 0 {
			break
		}
		pages = append(pages, p.Transactions)
		if len(pages) > 1000 {
			t.Fatal("walk does not end")
		}
	}
	return pages
}

func testTransactions(t *testing.T, open func(t *testing.T) ob.Store) {
	s := open(t)
	data := pagingBank()
	MustImport(t, s, data)
	all := data.Transactions
	base := FixtureTime()

	// Queries the subtests run: one account, both sides; sides; bounds; bulk.
	queries := []struct {
		name string
		q    ob.TransactionQuery
	}{
		{"acc1", ob.TransactionQuery{AccountIDs: []string{Acc1}, Credits: true, Debits: true}},
		{"acc1 credits", ob.TransactionQuery{AccountIDs: []string{Acc1}, Credits: true}},
		{"acc1 debits", ob.TransactionQuery{AccountIDs: []string{Acc1}, Debits: true}},
		// From and To fall exactly on booking times shared by several rows:
		// both bounds are inclusive.
		{"acc1 from-to", ob.TransactionQuery{AccountIDs: []string{Acc1}, Credits: true, Debits: true,
			From: ptr(base.Add(-12 * time.Hour)), To: ptr(base.Add(-3 * time.Hour))}},
		{"bulk", ob.TransactionQuery{AccountIDs: []string{Acc2, Acc1}, Credits: true, Debits: true}},
		{"bulk credits from", ob.TransactionQuery{AccountIDs: []string{Acc1, Acc2}, Credits: true,
			From: ptr(base.Add(-10 * time.Hour))}},
		{"acc1 and unknown", ob.TransactionQuery{AccountIDs: []string{Acc1, "nope"}, Debits: true}},
	}

	t.Run("FirstPage", func(t *testing.T) {
		for _, tc := range queries {
			t.Run(tc.name, func(t *testing.T) {
				q := tc.q
				q.PageSize = 10
				want := model(all, q, q.From, q.To)
				got := mustPage(t, s, q)
				diff(t, "ids", ids(want[:min(10, len(want))]), ids(got.Transactions))
				if got.Total != len(want) {
					t.Errorf("Total = %d, want %d", got.Total, len(want))
				}
				if got.Snapshot == 0 {
					t.Error("Snapshot = 0, want the insertion sequence the listing is frozen at")
				}
			})
		}
		// The bounds include the rows exactly on them.
		q := queries[3].q
		q.PageSize = 100
		got := mustPage(t, s, q).Transactions
		if len(got) == 0 || !got[0].BookingDateTime.Equal(*q.To) || !got[len(got)-1].BookingDateTime.Equal(*q.From) {
			t.Errorf("From/To %v..%v: got rows from %v to %v, want both bounds included", *q.From, *q.To,
				got[len(got)-1].BookingDateTime, got[0].BookingDateTime)
		}
	})

	t.Run("Available", func(t *testing.T) {
		// FirstAvailable/LastAvailable follow the consent window alone, not
		// the TPP's narrower From/To, and respect accounts and sides.
		for _, tc := range []struct {
			name                string
			q                   ob.TransactionQuery
			wantFirst, wantLast *time.Time
		}{
			{"no window", ob.TransactionQuery{AccountIDs: []string{Acc1}, Credits: true, Debits: true,
				From: ptr(base.Add(-5 * time.Hour)), To: ptr(base.Add(-2 * time.Hour))},
				ptr(base.Add(-17 * time.Hour)), ptr(base)},
			{"window", ob.TransactionQuery{AccountIDs: []string{Acc1}, Credits: true, Debits: true,
				WindowFrom: ptr(base.Add(-90 * time.Minute * 10)), WindowTo: ptr(base.Add(-90 * time.Minute)),
				From: ptr(base.Add(-5 * time.Hour)), To: ptr(base.Add(-3 * time.Hour))},
				ptr(base.Add(-15 * time.Hour)), ptr(base.Add(-2 * time.Hour))},
			{"window, debits", ob.TransactionQuery{AccountIDs: []string{Acc2}, Debits: true,
				WindowTo: ptr(base.Add(-time.Hour))},
				ptr(base.Add(-9 * time.Hour)), ptr(base.Add(-1 * time.Hour))},
			{"empty window", ob.TransactionQuery{AccountIDs: []string{Acc1}, Credits: true, Debits: true,
				WindowFrom: ptr(base.Add(time.Hour))}, nil, nil},
			{"unknown account", ob.TransactionQuery{AccountIDs: []string{"nope"}, Credits: true, Debits: true}, nil, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				q := tc.q
				q.PageSize = 5
				inWindow := model(all, q, q.WindowFrom, q.WindowTo)
				var modelFirst, modelLast *time.Time
				if len(inWindow) > 0 {
					modelFirst, modelLast = &inWindow[len(inWindow)-1].BookingDateTime, &inWindow[0].BookingDateTime
				}
				// The hand-computed expectations and the model must agree.
				diff(t, "model FirstAvailable", tc.wantFirst, modelFirst)
				diff(t, "model LastAvailable", tc.wantLast, modelLast)
				got := mustPage(t, s, q)
				diff(t, "FirstAvailable", tc.wantFirst, got.FirstAvailable)
				diff(t, "LastAvailable", tc.wantLast, got.LastAvailable)
				checkUTC(t, "page", got)
			})
		}
	})

	t.Run("Walk", func(t *testing.T) {
		for _, tc := range queries {
			for _, size := range []int{1, 7, 10, 18, 53, 100} {
				t.Run(fmt.Sprintf("%s/size=%d", tc.name, size), func(t *testing.T) {
					q := tc.q
					q.PageSize = size
					want := model(all, q, q.From, q.To)
					pages := walk(t, s, q)

					// Next: every row exactly once, in order, in full pages.
					diff(t, "walked ids", ids(want), ids(slices.Concat(pages...)))
					wantPages := max(1, (len(want)+size-1)/size)
					if len(pages) != wantPages {
						t.Fatalf("%d pages, want %d", len(pages), wantPages)
					}
					for i, p := range pages[:len(pages)-1] {
						if len(p) != size {
							t.Errorf("page %d has %d rows, want %d", i+1, len(p), size)
						}
					}
					first := mustPage(t, s, q)
					snap := first.Snapshot

					// Last: the oldest page, aligned so that earlier pages are full.
					q.Cursor = ob.TxCursor{Snapshot: snap, Mode: ob.CursorLast, Page: wantPages}
					last := mustPage(t, s, q)
					diff(t, "CursorLast ids", ids(pages[len(pages)-1]), ids(last.Transactions))
					if wantLen := len(want) - (wantPages-1)*size; len(want) > 0 && len(last.Transactions) != wantLen {
						t.Errorf("CursorLast: %d rows, want Total-(pages-1)*PageSize = %d", len(last.Transactions), wantLen)
					}
					if last.Total != len(want) {
						t.Errorf("CursorLast: Total = %d, want %d", last.Total, len(want))
					}

					// Before: walking back from each page gives the page before it.
					for i := len(pages) - 1; i > 0; i-- {
						q.Cursor = ob.TxCursor{Snapshot: snap, Mode: ob.CursorBefore, Key: keyOf(pages[i][0]), Page: i}
						prev := mustPage(t, s, q)
						diff(t, fmt.Sprintf("CursorBefore page %d ids", i), ids(pages[i-1]), ids(prev.Transactions))
					}

					// Page numbers, and one past the end.
					for n := 1; n <= len(pages)+1; n++ {
						q.Cursor = ob.TxCursor{Snapshot: snap, Mode: ob.CursorPage, Page: n}
						got := mustPage(t, s, q)
						var wantIDs []string
						if n <= len(pages) {
							wantIDs = ids(pages[n-1])
						}
						diff(t, fmt.Sprintf("CursorPage %d ids", n), wantIDs, ids(got.Transactions))
						if got.Total != len(want) {
							t.Errorf("CursorPage %d: Total = %d, want %d", n, got.Total, len(want))
						}
					}
				})
			}
		}
	})

	t.Run("EmptyAndInvalid", func(t *testing.T) {
		ctx := context.Background()
		for _, accounts := range [][]string{nil, {"nope"}} {
			p, err := s.Transactions(ctx, ob.TransactionQuery{AccountIDs: accounts, Credits: true, Debits: true, PageSize: 10})
			if err != nil || len(p.Transactions) != 0 || p.Total != 0 || p.FirstAvailable != nil || p.LastAvailable != nil {
				t.Errorf("Transactions(%q) = %d rows, Total %d, first %v, last %v, err %v; want an empty page",
					accounts, len(p.Transactions), p.Total, p.FirstAvailable, p.LastAvailable, err)
			}
		}
		for _, q := range []ob.TransactionQuery{
			{AccountIDs: []string{Acc1}, Credits: true, Debits: true},
			{AccountIDs: []string{Acc1}, PageSize: 10},
		} {
			if _, err := s.Transactions(ctx, q); err == nil {
				t.Errorf("Transactions(PageSize %d, Credits %v, Debits %v) = nil error, want an error",
					q.PageSize, q.Credits, q.Debits)
			}
		}
	})

	t.Run("Stability", func(t *testing.T) { testStability(t, open(t)) })
	t.Run("Totals", func(t *testing.T) { testTotals(t, open(t)) })
}

// testTotals checks Total and FirstAvailable/LastAvailable against the model
// after several imports that widen an account's range at both ends (ties
// with stored booking times, credits, debits and zero amounts included), for
// bounds that cover the accounts' range, sit exactly on its ends, cut into
// it or miss it, so that both a store's fast path (bounds covering the
// range) and its counting path are exercised. It also checks that totals
// carried in a cursor come back unchanged.
func testTotals(t *testing.T, s ob.Store) {
	data := pagingBank()
	all := data.Transactions
	half := len(all) / 2
	MustImport(t, s, &ob.BankData{Customers: data.Customers, Accounts: data.Accounts, Transactions: all[:half]})
	MustImport(t, s, &ob.BankData{Transactions: all[half:]})
	base := FixtureTime()
	var extra []ob.Transaction
	for i, h := range []int{-30, -30, -17, 0, 5, 5, -40} {
		account := Acc1
		if i == 6 {
			account = Acc2
		}
		extra = append(extra, ob.Transaction{ID: fmt.Sprintf("x-%d", i), AccountID: account, Status: ob.TxBooked,
			BookingDateTime: base.Add(time.Duration(h) * time.Hour), Amount: gbp(int64([]int{-5, 0, 7, -9, 3, -1, 4}[i]))})
	}
	MustImport(t, s, &ob.BankData{Transactions: extra})
	all = append(slices.Clone(all), extra...)

	// Acc1 now spans base-30h .. base+5h; Acc2 base-40h .. base.
	hours := func(h int) *time.Time { return ptr(base.Add(time.Duration(h) * time.Hour)) }
	bounds := []struct {
		name     string
		from, to *time.Time
	}{
		{"open", nil, nil},
		{"wide", hours(-100), hours(100)},
		{"exact acc1", hours(-30), hours(5)},
		{"from cuts", hours(-17), nil},
		{"to cuts", nil, hours(0)},
		{"both cut", hours(-12), hours(-3)},
		{"just inside", ptr(base.Add(-30*time.Hour + time.Microsecond)), ptr(base.Add(5*time.Hour - time.Microsecond))},
		{"before all", nil, hours(-50)},
		{"after all", hours(50), nil},
	}
	sides := []struct{ credits, debits bool }{{true, true}, {true, false}, {false, true}}
	accounts := [][]string{{Acc1}, {Acc2}, {Acc1, Acc2}, {Acc3}}
	for _, accs := range accounts {
		for _, side := range sides {
			for _, w := range bounds {
				for _, f := range bounds {
					q := ob.TransactionQuery{AccountIDs: accs, Credits: side.credits, Debits: side.debits, PageSize: 4,
						WindowFrom: w.from, WindowTo: w.to}
					// The TPP's filter intersected with the window, as ais does.
					q.From, q.To = f.from, f.to
					if w.from != nil && (q.From == nil || q.From.Before(*w.from)) {
						q.From = w.from
					}
					if w.to != nil && (q.To == nil || q.To.After(*w.to)) {
						q.To = w.to
					}
					name := fmt.Sprintf("%v/%v,%v/window %s/filter %s", accs, side.credits, side.debits, w.name, f.name)
					checkTotals(t, s, all, q, name)
				}
				// A filter reaching outside the window (no caller does that)
				// is still counted by its own bounds.
				q := ob.TransactionQuery{AccountIDs: accs, Credits: side.credits, Debits: side.debits, PageSize: 4,
					WindowFrom: hours(-12), WindowTo: hours(-3), From: w.from, To: w.to}
				checkTotals(t, s, all, q, fmt.Sprintf("%v/%v,%v/filter %s outside window", accs, side.credits, side.debits, w.name))
			}
		}
	}

	// Totals carried by a cursor come back as they are, without counting;
	// without a snapshot they are ignored.
	q := ob.TransactionQuery{AccountIDs: []string{Acc1}, Credits: true, Debits: true, PageSize: 4}
	first := mustPage(t, s, q)
	carried := ob.TxTotals{Known: true, Total: 7, FirstAvailable: base.Add(-time.Hour), LastAvailable: base}
	q.Cursor = ob.TxCursor{Snapshot: first.Snapshot, Mode: ob.CursorAfter, Key: keyOf(first.Transactions[3]), Page: 2, Totals: carried}
	got := mustPage(t, s, q)
	if got.Total != 7 || got.FirstAvailable == nil || !got.FirstAvailable.Equal(carried.FirstAvailable) ||
		got.LastAvailable == nil || !got.LastAvailable.Equal(carried.LastAvailable) {
		t.Errorf("carried totals: got Total %d, first %v, last %v; want them unchanged (%+v)", got.Total,
			got.FirstAvailable, got.LastAvailable, carried)
	}
	diff(t, "carried totals: page 2 totals", carried, got.Totals())
	q.Cursor = ob.TxCursor{Snapshot: first.Snapshot, Mode: ob.CursorLast, Page: 2, Totals: carried}
	if got := mustPage(t, s, q); len(got.Transactions) != 3 {
		t.Errorf("CursorLast with carried Total 7, size 4: %d rows, want 3", len(got.Transactions))
	}
	q.Cursor = ob.TxCursor{Mode: ob.CursorFirst, Page: 1, Totals: carried}
	if got := mustPage(t, s, q); got.Total != first.Total {
		t.Errorf("totals without a snapshot: Total %d, want the count %d", got.Total, first.Total)
	}
	diff(t, "first page Totals", ob.TxTotals{Known: true, Total: first.Total, FirstAvailable: base.Add(-30 * time.Hour),
		LastAvailable: base.Add(5 * time.Hour)}, first.Totals())
}

func checkTotals(t *testing.T, s ob.Store, all []ob.Transaction, q ob.TransactionQuery, name string) {
	t.Helper()
	want := model(all, q, q.From, q.To)
	inWindow := model(all, q, q.WindowFrom, q.WindowTo)
	var wantFirst, wantLast *time.Time
	if len(inWindow) > 0 {
		wantFirst, wantLast = &inWindow[len(inWindow)-1].BookingDateTime, &inWindow[0].BookingDateTime
	}
	got := mustPage(t, s, q)
	if got.Total != len(want) {
		t.Errorf("%s: Total = %d, want %d", name, got.Total, len(want))
	}
	diff(t, name+": FirstAvailable", wantFirst, got.FirstAvailable)
	diff(t, name+": LastAvailable", wantLast, got.LastAvailable)
	diff(t, name+": ids", ids(want[:min(len(want), q.PageSize)]), ids(got.Transactions))
}

// testStability checks that a snapshot freezes a listing: rows imported after
// its first page (booked in the middle of the listing, and newer than all of
// it) neither appear on later pages nor change Total.
func testStability(t *testing.T, s ob.Store) {
	data := pagingBank()
	MustImport(t, s, data)
	base := FixtureTime()
	q := ob.TransactionQuery{AccountIDs: []string{Acc1, Acc2}, Credits: true, Debits: true, PageSize: 10}
	want := model(data.Transactions, q, nil, nil)

	first := mustPage(t, s, q)
	diff(t, "first page", ids(want[:10]), ids(first.Transactions))

	var late []ob.Transaction
	for i := range 6 {
		late = append(late, ob.Transaction{
			ID: fmt.Sprintf("late-%d", i), AccountID: []string{Acc1, Acc2}[i%2], Status: ob.TxBooked,
			// Three in the middle of the listing (ties with existing rows
			// included), three newer than everything.
			BookingDateTime: base.Add(time.Duration([]int{-8, -8, -12, 1, 2, 3}[i]) * time.Hour),
			Amount:          gbp(int64(i*100 - 200)),
		})
	}
	MustImport(t, s, &ob.BankData{Transactions: late})

	q.Cursor.Snapshot = first.Snapshot
	pages := walk(t, s, q)
	diff(t, "ids walked with the snapshot", ids(want), ids(slices.Concat(pages...)))
	for _, c := range []ob.TxCursor{
		{Snapshot: first.Snapshot, Mode: ob.CursorLast},
		{Snapshot: first.Snapshot, Mode: ob.CursorPage, Page: 3},
		{Snapshot: first.Snapshot, Mode: ob.CursorBefore, Key: keyOf(want[20])},
	} {
		q.Cursor = c
		p := mustPage(t, s, q)
		if p.Total != len(want) {
			t.Errorf("cursor %+v: Total = %d, want %d (as of the snapshot)", c.Mode, p.Total, len(want))
		}
		for _, tx := range p.Transactions {
			if slices.ContainsFunc(late, func(l ob.Transaction) bool { return l.ID == tx.ID }) {
				t.Errorf("cursor %+v: %s stored after the snapshot appears", c.Mode, tx.ID)
			}
		}
	}

	// A new listing sees everything.
	q.Cursor = ob.TxCursor{}
	now := mustPage(t, s, q)
	wantNow := model(append(slices.Clone(data.Transactions), late...), q, nil, nil)
	if now.Total != len(wantNow) || now.Snapshot <= first.Snapshot {
		t.Errorf("new listing: Total, Snapshot = %d, %d; want %d, > %d", now.Total, now.Snapshot, len(wantNow), first.Snapshot)
	}
	diff(t, "new listing first page", ids(wantNow[:10]), ids(now.Transactions))
}
