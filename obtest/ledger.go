package obtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/obank/obank/demo"
	"github.com/obank/obank/ledger"
	"github.com/obank/obank/ob"
)

// LedgerStore is what the ledger suite needs: a bank store that keeps the
// ledger.
type LedgerStore interface {
	ob.Store
	ledger.Store
}

// LedgerHooker is the SQL store's PostWith (extra work in the posting's
// database transaction), tested when the store has it.
type LedgerHooker interface {
	PostWith(ctx context.Context, e ledger.Entry,
		also func(ctx context.Context, tx *sql.Tx, out ledger.Outcome) error) (ledger.Outcome, error)
}

// LedgerOptions configure RunLedgerTests.
type LedgerOptions struct {
	// Concurrent is the number of payments raced between the same two
	// accounts (200 on PostgreSQL, fewer on SQLite).
	Concurrent int
	// Tamper, when set, changes an account's stored ledger balance by delta
	// behind the store's back (raw SQL), to prove Verify notices.
	Tamper func(t *testing.T, s LedgerStore, accountID string, delta int64)
}

// Ledger accounts of the suite's bank.
const (
	LedgerA   = "ledger-acc-a" // GBP, booked 100.00, overdraft 50.00
	LedgerB   = "ledger-acc-b" // GBP, booked 20.00, no overdraft
	LedgerEUR = "ledger-acc-e" // EUR, booked 10.00
	ledgerCu  = "ledger-cust"
)

func ledgerTime(d time.Duration) time.Time { return FixtureTime().Add(d) }

// LedgerBank is a tiny bank for ledger tests: one customer with the accounts
// LedgerA, LedgerB and LedgerEUR, and their Interim balances.
func LedgerBank() *ob.BankData {
	t0 := ledgerTime(0)
	acct := func(id, cur string) ob.Account {
		return ob.Account{ID: id, CustomerID: ledgerCu, Status: "Enabled", StatusUpdateDateTime: t0, Currency: cur,
			Type: ob.AccountTypePersonal, SubType: ob.SubTypeCurrentAccount, OpeningDate: t0, CreatedAt: t0,
			Identifications: []ob.AccountIdentification{{SchemeName: ob.SchemeSortCodeAccountNumber,
				Identification: "60000100000001", Name: "L Edger"}}}
	}
	bal := func(id, typ string, minor int64, cur string, lines ...ob.CreditLine) ob.Balance {
		return ob.Balance{AccountID: id, Type: typ, DateTime: t0, Amount: ob.Money{Minor: minor, Currency: cur}, CreditLines: lines}
	}
	line := func(included bool) ob.CreditLine {
		return ob.CreditLine{Included: included, Type: "Pre-Agreed", Amount: &ob.Money{Minor: 5000, Currency: "GBP"}}
	}
	return &ob.BankData{
		Customers: []ob.Customer{{ID: ledgerCu, Username: "ledger", PartyType: "Sole", Name: "L Edger", CreatedAt: t0}},
		Accounts:  []ob.Account{acct(LedgerA, "GBP"), acct(LedgerB, "GBP"), acct(LedgerEUR, "EUR")},
		AccountHolders: []ob.AccountHolder{
			{AccountID: LedgerA, CustomerID: ledgerCu, PartyType: "Sole", AccountRole: "UK.OBIE.Principal"},
			{AccountID: LedgerB, CustomerID: ledgerCu, PartyType: "Sole", AccountRole: "UK.OBIE.Principal"},
			{AccountID: LedgerEUR, CustomerID: ledgerCu, PartyType: "Sole", AccountRole: "UK.OBIE.Principal"},
		},
		Balances: []ob.Balance{
			bal(LedgerA, ob.BalanceInterimBooked, 10000, "GBP", line(false)),
			bal(LedgerA, ob.BalanceInterimAvailable, 15000, "GBP", line(true)),
			bal(LedgerB, ob.BalanceInterimBooked, 2000, "GBP"),
			bal(LedgerB, ob.BalanceInterimAvailable, 2000, "GBP"),
			bal(LedgerEUR, ob.BalanceInterimBooked, 1000, "EUR"),
		},
	}
}

// RunLedgerTests runs the ledger contract suite. open must return a fresh,
// empty store for each call.
func RunLedgerTests(t *testing.T, open func(t *testing.T) LedgerStore, opts LedgerOptions) {
	t.Run("Open", func(t *testing.T) { testLedgerOpen(t, open(t)) })
	t.Run("Post", func(t *testing.T) { testLedgerPost(t, open(t)) })
	t.Run("Refused", func(t *testing.T) { testLedgerRefused(t, open(t)) })
	t.Run("Settlement", func(t *testing.T) { testLedgerSettlement(t, open(t)) })
	t.Run("Hook", func(t *testing.T) { testLedgerHook(t, open(t)) })
	t.Run("Tamper", func(t *testing.T) { testLedgerTamper(t, open(t), opts.Tamper) })
	t.Run("Concurrent", func(t *testing.T) { testLedgerConcurrent(t, open(t), opts.Concurrent) })
	t.Run("ConcurrentDuplicate", func(t *testing.T) { testLedgerConcurrentDuplicate(t, open(t)) })
	t.Run("Demo", func(t *testing.T) { testLedgerDemo(t, open(t)) })
}

// openLedgerBank imports LedgerBank and opens the ledger.
func openLedgerBank(t *testing.T, s LedgerStore) {
	t.Helper()
	MustImport(t, s, LedgerBank())
	if n, err := ledger.Open(context.Background(), s, ledgerTime(time.Second)); err != nil || n != 3 {
		t.Fatalf("ledger.Open = %d, %v; want 3, nil", n, err)
	}
}

// mustVerify fails the test unless the ledger verifies.
func mustVerify(t *testing.T, s LedgerStore) ledger.Report {
	t.Helper()
	rep, err := s.Verify(context.Background())
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if !rep.OK() {
		t.Fatalf("Verify: %s", rep)
	}
	return rep
}

// wantBalance checks the ledger balance and the AIS Interim balances.
func wantBalance(t *testing.T, s LedgerStore, id string, booked, available int64) {
	t.Helper()
	ctx := context.Background()
	a, err := s.LedgerAccount(ctx, id)
	if err != nil {
		t.Fatalf("LedgerAccount(%s): %v", id, err)
	}
	if a.Balance.Minor != booked {
		t.Errorf("%s: ledger balance %s, want %d", id, a.Balance, booked)
	}
	bs, err := s.Balances(ctx, []string{id})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, b := range bs {
		seen[b.Type] = true
		switch b.Type {
		case ob.BalanceInterimBooked:
			if b.Amount.Minor != booked {
				t.Errorf("%s: AIS InterimBooked %s, want %d", id, b.Amount, booked)
			}
		case ob.BalanceInterimAvailable:
			if b.Amount.Minor != available {
				t.Errorf("%s: AIS InterimAvailable %s, want %d", id, b.Amount, available)
			}
		}
	}
	if !seen[ob.BalanceInterimBooked] || !seen[ob.BalanceInterimAvailable] {
		t.Errorf("%s: AIS balances %+v, want InterimBooked and InterimAvailable", id, bs)
	}
}

func gbpm(minor int64) ob.Money { return ob.Money{Minor: minor, Currency: "GBP"} }

func testLedgerOpen(t *testing.T, s LedgerStore) {
	ctx := context.Background()
	openLedgerBank(t, s)
	rep := mustVerify(t, s)
	if rep.Accounts != 5 || rep.Entries != 3 || rep.Postings != 6 {
		t.Errorf("after open: %d accounts, %d entries, %d postings; want 5 (3 + 2 equity), 3, 6",
			rep.Accounts, rep.Entries, rep.Postings)
	}
	a, err := s.LedgerAccount(ctx, LedgerA)
	if err != nil || a.Kind != ledger.KindCustomer || a.Limit == nil || *a.Limit != 5000 || a.Balance != gbpm(10000) {
		t.Errorf("LedgerAccount(A) = %+v, %v; want customer, limit 5000, balance 10000", a, err)
	}
	eq, err := s.LedgerAccount(ctx, ledger.EquityAccount("GBP"))
	if err != nil || eq.Balance != gbpm(-12000) || eq.Limit != nil {
		t.Errorf("equity GBP = %+v, %v; want -12000, no limit", eq, err)
	}
	// Idempotent.
	if n, err := ledger.Open(ctx, s, ledgerTime(time.Minute)); err != nil || n != 0 {
		t.Errorf("second Open = %d, %v; want 0, nil", n, err)
	}
	mustVerify(t, s)
	if _, err := s.LedgerAccount(ctx, "nope"); !errors.Is(err, ledger.ErrUnknownAccount) {
		t.Errorf("LedgerAccount(nope) = %v, want ErrUnknownAccount", err)
	}
	// An account imported later is unopened until Open runs again.
	d := LedgerBank()
	d.Customers, d.AccountHolders, d.Balances = nil, nil, nil
	d.Accounts = d.Accounts[:1]
	d.Accounts[0].ID = "ledger-acc-late"
	MustImport(t, s, d)
	rep, err = s.Verify(ctx)
	if err != nil || rep.OK() || rep.Mismatches[0].Kind != ledger.MismatchUnopened {
		t.Errorf("Verify with an unopened account = %s, %v; want an unopened mismatch", rep, err)
	}
	if n, err := ledger.Open(ctx, s, ledgerTime(time.Minute)); err != nil || n != 1 {
		t.Errorf("Open after import = %d, %v; want 1", n, err)
	}
	mustVerify(t, s)
}

func testLedgerPost(t *testing.T, s LedgerStore) {
	ctx := context.Background()
	openLedgerBank(t, s)
	e := ledger.Transfer("pay-1", ledger.EntryInternal, "Rent", LedgerA, LedgerB, gbpm(3050), ledgerTime(time.Hour))
	e.Postings[1].Tx = &ob.Transaction{Information: "From L Edger", Reference: "RENT-JAN"}
	out, err := s.Post(ctx, e)
	if err != nil || !out.Posted || out.Refused != nil {
		t.Fatalf("Post = %+v, %v; want posted", out, err)
	}
	if out.Balances[LedgerA] != gbpm(6950) || out.Balances[LedgerB] != gbpm(5050) {
		t.Errorf("outcome balances %v", out.Balances)
	}
	wantBalance(t, s, LedgerA, 6950, 11950)
	wantBalance(t, s, LedgerB, 5050, 5050)
	mustVerify(t, s)

	// Both sides show a Booked transaction with its BalanceAfter.
	for _, w := range []struct {
		account, id, ref, info string
		amount, after          int64
	}{
		{LedgerA, "pay-1-0", "Rent", "", -3050, 6950},
		{LedgerB, "pay-1-1", "RENT-JAN", "From L Edger", 3050, 5050},
	} {
		page, err := s.Transactions(ctx, ob.TransactionQuery{AccountIDs: []string{w.account}, Credits: true, Debits: true, PageSize: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Transactions) != 1 || page.Total != 1 {
			t.Fatalf("%s: %d transactions (total %d), want 1", w.account, len(page.Transactions), page.Total)
		}
		tx := page.Transactions[0]
		if tx.ID != w.id || tx.Status != ob.TxBooked || tx.Amount != gbpm(w.amount) || tx.BalanceAfter == nil ||
			*tx.BalanceAfter != gbpm(w.after) || tx.Reference != w.ref || tx.Information != w.info ||
			!tx.BookingDateTime.Equal(ledgerTime(time.Hour)) {
			t.Errorf("%s: transaction %+v", w.account, tx)
		}
	}

	// The same entry id again moves nothing.
	if _, err := s.Post(ctx, e); ob.ErrorCode(err) != ob.CodeConflict {
		t.Errorf("Post of a duplicate id = %v, want a conflict", err)
	}
	wantBalance(t, s, LedgerA, 6950, 11950)
	mustVerify(t, s)

	// An account without AIS balances gets both Interim ones at its first
	// entry, and they move with the next.
	d := LedgerBank()
	d.Customers, d.AccountHolders, d.Balances = nil, nil, nil
	d.Accounts = d.Accounts[:1]
	d.Accounts[0].ID = "ledger-acc-bare"
	MustImport(t, s, d)
	if _, err := ledger.Open(ctx, s, ledgerTime(time.Hour)); err != nil {
		t.Fatal(err)
	}
	for i, amount := range []int64{100, 250} {
		e := ledger.Transfer(fmt.Sprintf("pay-bare-%d", i), ledger.EntryInternal, "Gift", LedgerA, "ledger-acc-bare",
			gbpm(amount), ledgerTime(2*time.Hour))
		if out, err := s.Post(ctx, e); err != nil || !out.Posted {
			t.Fatalf("Post to a bare account = %+v, %v", out, err)
		}
	}
	wantBalance(t, s, "ledger-acc-bare", 350, 350)
	wantBalance(t, s, LedgerA, 6600, 11600)
	mustVerify(t, s)
}

func testLedgerRefused(t *testing.T, s LedgerStore) {
	ctx := context.Background()
	openLedgerBank(t, s)
	at := ledgerTime(time.Hour)
	cases := []struct {
		name string
		e    ledger.Entry
		want error
	}{
		{"unbalanced", ledger.Entry{ID: "x1", At: at, Postings: []ledger.Posting{
			{AccountID: LedgerA, Amount: gbpm(-100)}, {AccountID: LedgerB, Amount: gbpm(99)}}}, ledger.ErrUnbalanced},
		{"one posting", ledger.Entry{ID: "x2", At: at, Postings: []ledger.Posting{
			{AccountID: LedgerA, Amount: gbpm(0)}}}, ledger.ErrInvalidEntry},
		{"zero posting", ledger.Entry{ID: "x3", At: at, Postings: []ledger.Posting{
			{AccountID: LedgerA, Amount: gbpm(0)}, {AccountID: LedgerB, Amount: gbpm(0)}}}, ledger.ErrInvalidEntry},
		{"two currencies on an account", ledger.Entry{ID: "x4", At: at, Postings: []ledger.Posting{
			{AccountID: LedgerA, Amount: gbpm(-100)}, {AccountID: LedgerB, Amount: gbpm(100)},
			{AccountID: LedgerA, Amount: ob.Money{Minor: -100, Currency: "EUR"}},
			{AccountID: LedgerEUR, Amount: ob.Money{Minor: 100, Currency: "EUR"}}}}, ledger.ErrInvalidEntry},
		{"currency not the account's", ledger.Transfer("x5", ledger.EntryInternal, "", LedgerA, LedgerEUR, gbpm(100), at),
			ledger.ErrCurrencyMismatch},
		{"unknown account", ledger.Transfer("x6", ledger.EntryInternal, "", LedgerA, "nope", gbpm(100), at),
			ledger.ErrUnknownAccount},
		{"past the overdraft", ledger.Transfer("x7", ledger.EntryInternal, "", LedgerA, LedgerB, gbpm(15001), at),
			ledger.ErrInsufficientFunds},
		{"no overdraft", ledger.Transfer("x8", ledger.EntryInternal, "", LedgerB, LedgerA, gbpm(2001), at),
			ledger.ErrInsufficientFunds},
		{"no time", ledger.Transfer("x9", ledger.EntryInternal, "", LedgerB, LedgerA, gbpm(1), time.Time{}),
			ledger.ErrInvalidEntry},
	}
	for _, c := range cases {
		out, err := s.Post(ctx, c.e)
		if !errors.Is(err, c.want) || out.Posted {
			t.Errorf("%s: Post = %+v, %v; want %v", c.name, out, err, c.want)
		}
		if c.want == ledger.ErrInsufficientFunds && (out.Refused == nil || !ledger.IsInsufficientFunds(err) ||
			ob.ErrorCode(err) != ledger.CodeInsufficientFunds) {
			t.Errorf("%s: outcome %+v, code %s; want Refused and %s", c.name, out, ob.ErrorCode(err), ledger.CodeInsufficientFunds)
		}
	}
	// Nothing was written.
	rep := mustVerify(t, s)
	if rep.Entries != 3 {
		t.Errorf("%d entries after refusals, want the 3 opening ones", rep.Entries)
	}
	wantBalance(t, s, LedgerA, 10000, 15000)
	wantBalance(t, s, LedgerB, 2000, 2000)

	// Exactly to the limit is allowed; a credit to an account past it too.
	if _, err := s.Post(ctx, ledger.Transfer("ok1", ledger.EntryInternal, "", LedgerA, LedgerB, gbpm(15000), at)); err != nil {
		t.Fatalf("Post to exactly the limit: %v", err)
	}
	wantBalance(t, s, LedgerA, -5000, 0)
	if _, err := s.Post(ctx, ledger.Transfer("ok2", ledger.EntryInternal, "", LedgerB, LedgerA, gbpm(1), at)); err != nil {
		t.Fatalf("Post of a credit: %v", err)
	}
	if _, err := s.Post(ctx, ledger.Transfer("no1", ledger.EntryInternal, "", LedgerA, LedgerB, gbpm(2), at)); !ledger.IsInsufficientFunds(err) {
		t.Fatalf("Post past the limit = %v, want refused", err)
	}
	mustVerify(t, s)
}

func testLedgerSettlement(t *testing.T, s LedgerStore) {
	ctx := context.Background()
	openLedgerBank(t, s)
	at := ledgerTime(time.Hour)
	settle := ledger.SettlementAccount("GBP")
	if _, err := s.Post(ctx, ledger.Transfer("out-1", ledger.EntryOutbound, "to another bank", LedgerA, settle, gbpm(2500), at)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Post(ctx, ledger.Transfer("in-1", ledger.EntryInbound, "from another bank", settle, LedgerB, gbpm(700), at)); err != nil {
		t.Fatal(err)
	}
	// The bank account of the wrong currency is refused.
	if _, err := s.Post(ctx, ledger.Transfer("out-2", ledger.EntryOutbound, "", LedgerA, ledger.SettlementAccount("EUR"), gbpm(1), at)); !errors.Is(err, ledger.ErrInvalidEntry) {
		t.Errorf("GBP to the EUR settlement account = %v, want ErrInvalidEntry", err)
	}
	a, err := s.LedgerAccount(ctx, settle)
	if err != nil || a.Kind != ledger.KindSettlement || a.Balance != gbpm(1800) {
		t.Errorf("settlement = %+v, %v; want 1800", a, err)
	}
	wantBalance(t, s, LedgerA, 7500, 12500)
	wantBalance(t, s, LedgerB, 2700, 2700)
	rep := mustVerify(t, s)
	if rep.Totals["GBP"] != 0 || rep.Totals["EUR"] != 0 {
		t.Errorf("totals %v, want zero", rep.Totals)
	}
}

func testLedgerHook(t *testing.T, s LedgerStore) {
	h, ok := s.(LedgerHooker)
	if !ok {
		t.Skip("the store has no PostWith")
	}
	ctx := context.Background()
	openLedgerBank(t, s)
	at := ledgerTime(time.Hour)
	mark := func(id string) func(ctx context.Context, tx *sql.Tx, out ledger.Outcome) error {
		return func(ctx context.Context, tx *sql.Tx, out ledger.Outcome) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO ledger_entries (id, kind, reference, at) VALUES ($1, 'Test', '', 0)`, id)
			return err
		}
	}
	// A failing hook rolls the postings back.
	boom := errors.New("boom")
	_, err := h.PostWith(ctx, ledger.Transfer("h1", ledger.EntryInternal, "", LedgerA, LedgerB, gbpm(100), at),
		func(ctx context.Context, tx *sql.Tx, out ledger.Outcome) error {
			if !out.Posted {
				t.Errorf("hook saw %+v, want posted", out)
			}
			return boom
		})
	if !errors.Is(err, boom) {
		t.Fatalf("PostWith with a failing hook = %v, want boom", err)
	}
	wantBalance(t, s, LedgerA, 10000, 15000)
	// A refusal runs the hook, whose writes commit; the ledger's do not.
	out, err := h.PostWith(ctx, ledger.Transfer("h2", ledger.EntryInternal, "", LedgerB, LedgerA, gbpm(5000), at), mark("h2-rejected"))
	if err != nil || out.Posted || !ledger.IsInsufficientFunds(out.Refused) {
		t.Fatalf("PostWith refused = %+v, %v; want Refused and nil", out, err)
	}
	// A posting and its hook commit together.
	out, err = h.PostWith(ctx, ledger.Transfer("h3", ledger.EntryInternal, "", LedgerA, LedgerB, gbpm(100), at), mark("h3-done"))
	if err != nil || !out.Posted {
		t.Fatalf("PostWith = %+v, %v; want posted", out, err)
	}
	rep := mustVerify(t, s)
	if rep.Entries != 3+1+2 {
		t.Errorf("%d entries, want 3 opening + h3 + 2 hook marks", rep.Entries)
	}
	wantBalance(t, s, LedgerA, 9900, 14900)
}

func testLedgerTamper(t *testing.T, s LedgerStore, tamper func(t *testing.T, s LedgerStore, id string, delta int64)) {
	ctx := context.Background()
	openLedgerBank(t, s)
	if _, err := s.Post(ctx, ledger.Transfer("t1", ledger.EntryInternal, "", LedgerA, LedgerB, gbpm(100), ledgerTime(time.Hour))); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, s)
	// An AIS balance that disagrees with the ledger (a newer InterimBooked).
	MustImport(t, s, &ob.BankData{Balances: []ob.Balance{{AccountID: LedgerB, Type: ob.BalanceInterimBooked,
		DateTime: ledgerTime(2 * time.Hour), Amount: gbpm(999999)}}})
	rep, err := s.Verify(ctx)
	if err != nil || len(rep.Mismatches) != 1 || rep.Mismatches[0].Kind != ledger.MismatchAIS || rep.Mismatches[0].ID != LedgerB {
		t.Errorf("Verify after tampering with B's AIS balance = %s, %v; want one ais-balance mismatch", rep, err)
	}
	if tamper == nil {
		return
	}
	tamper(t, s, LedgerA, -1)
	rep, err = s.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, m := range rep.Mismatches {
		kinds[m.Kind+" "+m.ID] = true
	}
	for _, k := range []string{ledger.MismatchBalance + " " + LedgerA, ledger.MismatchCurrency + " GBP", ledger.MismatchAIS + " " + LedgerA} {
		if !kinds[k] {
			t.Errorf("Verify after tampering with A's ledger balance: no %q in\n%s", k, rep)
		}
	}
}

func testLedgerConcurrent(t *testing.T, s LedgerStore, n int) {
	if n <= 0 {
		n = 50
	}
	ctx := context.Background()
	openLedgerBank(t, s)
	at := ledgerTime(time.Hour)
	// Most payments go A -> B; every fourth B -> A for 0.50, so both lock
	// orders are requested. A can pay out 150.00 plus what it receives; the
	// A -> B amount is chosen so that about half of those are refused.
	big := int64(30000 / n)
	type result struct {
		from, to string
		amount   int64
		posted   bool
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			r := result{from: LedgerA, to: LedgerB, amount: big}
			if i%4 == 3 {
				r = result{from: LedgerB, to: LedgerA, amount: 50}
			}
			<-start
			out, err := s.Post(ctx, ledger.Transfer(fmt.Sprintf("c-%d", i), ledger.EntryInternal, "race", r.from, r.to, gbpm(r.amount), at))
			switch {
			case err == nil && out.Posted && out.Refused == nil:
				r.posted = true
			case ledger.IsInsufficientFunds(err) && !out.Posted:
			default:
				t.Errorf("payment %d: %+v, %v; want posted or refused for funds", i, out, err)
			}
			results[i] = r
		})
	}
	close(start)
	wg.Wait()

	wantA, wantB := int64(10000), int64(2000)
	posted := map[string]int{}
	for _, r := range results {
		if !r.posted {
			continue
		}
		posted[r.from]++
		posted[r.to]++
		if r.from == LedgerA {
			wantA, wantB = wantA-r.amount, wantB+r.amount
		} else {
			wantA, wantB = wantA+r.amount, wantB-r.amount
		}
	}
	t.Logf("%d payments: %d postings on A, %d on B; A %d, B %d", n, posted[LedgerA], posted[LedgerB], wantA, wantB)
	wantBalance(t, s, LedgerA, wantA, wantA+5000)
	wantBalance(t, s, LedgerB, wantB, wantB)
	if wantA < -5000 || wantB < 0 {
		t.Errorf("balances A %d, B %d: below their limits", wantA, wantB)
	}
	if posted[LedgerA] == n {
		t.Errorf("all %d payments posted; the race should have met the limit", n)
	}
	// Each posted payment left one AIS transaction on each side.
	for _, id := range []string{LedgerA, LedgerB} {
		page, err := s.Transactions(ctx, ob.TransactionQuery{AccountIDs: []string{id}, Credits: true, Debits: true, PageSize: 1})
		if err != nil {
			t.Fatal(err)
		}
		if page.Total != posted[id] {
			t.Errorf("%s: %d AIS transactions, want %d", id, page.Total, posted[id])
		}
	}
	mustVerify(t, s)
}

// testLedgerConcurrentDuplicate posts one entry id from 20 goroutines at
// once: the money moves once, the others get a conflict.
func testLedgerConcurrentDuplicate(t *testing.T, s LedgerStore) {
	ctx := context.Background()
	openLedgerBank(t, s)
	e := ledger.Transfer("dup", ledger.EntryInternal, "", LedgerA, LedgerB, gbpm(100), ledgerTime(time.Hour))
	race(t, "Post of one entry id", 20, func(int) error { _, err := s.Post(ctx, e); return err })
	wantBalance(t, s, LedgerA, 9900, 14900)
	wantBalance(t, s, LedgerB, 2100, 2100)
	mustVerify(t, s)
}

func testLedgerDemo(t *testing.T, s LedgerStore) {
	ctx := context.Background()
	data, _, err := demo.Generate(demo.Config{Customers: 6, Years: 1, Anchor: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	MustImport(t, s, data)
	n, err := ledger.Open(ctx, s, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	if err != nil || n != len(data.Accounts) {
		t.Fatalf("ledger.Open on the demo bank = %d, %v; want %d", n, err, len(data.Accounts))
	}
	rep := mustVerify(t, s)
	t.Logf("demo: %s", rep)
	// A payment between two demo current accounts of the same currency.
	var from, to string
	for _, a := range data.Accounts {
		if a.SubType != ob.SubTypeCurrentAccount || a.Currency != "GBP" {
			continue
		}
		if from == "" {
			from = a.ID
		} else if to == "" {
			to = a.ID
		}
	}
	if to == "" {
		t.Fatal("the demo bank has fewer than two GBP current accounts")
	}
	out, err := s.Post(ctx, ledger.Transfer("demo-pay", ledger.EntryInternal, "Lunch", from, to, gbpm(1234), time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)))
	if err != nil && !ledger.IsInsufficientFunds(err) {
		t.Fatalf("Post between demo accounts: %+v, %v", out, err)
	}
	mustVerify(t, s)
}
