package demo_test

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/bcrypt"

	"github.com/obank/obank/demo"
	"github.com/obank/obank/ob"
)

// anchor is a fixed "today" so the tests see the same bank every run.
var anchor = time.Date(2025, 11, 24, 0, 0, 0, 0, time.UTC)

// defaultBank is generated once: most tests only read it.
var defaultBank = sync.OnceValues(func() (*ob.BankData, []demo.Login) {
	d, l, err := demo.Generate(demo.Config{Anchor: anchor})
	if err != nil {
		panic(err)
	}
	return d, l
})

func TestDeterministic(t *testing.T) {
	// cmp walks every field by reflection (about 50µs a transaction), so
	// it gets a small bank; the default one is compared as JSON below.
	cfg := demo.Config{Customers: 4, Seed: 7, Anchor: anchor, Years: 1}
	a, la, err := demo.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, lb, err := demo.Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a, b); diff != "" {
		t.Fatalf("two Generate calls differ (-first +second):\n%s", diff)
	}
	if diff := cmp.Diff(la, lb); diff != "" {
		t.Fatalf("logins differ:\n%s", diff)
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if !bytes.Equal(ja, jb) {
		t.Fatal("the JSON of two Generate calls differs")
	}

	// The default bank is also stable, including its password hashes.
	d1, _ := defaultBank()
	d2, _, err := demo.Generate(demo.Config{Anchor: anchor})
	if err != nil {
		t.Fatal(err)
	}
	j1, _ := json.Marshal(d1)
	j2, _ := json.Marshal(d2)
	if !bytes.Equal(j1, j2) {
		t.Fatal("the default bank is not byte-identical across calls")
	}

	other, _, err := demo.Generate(demo.Config{Customers: 4, Seed: 8, Anchor: anchor, Years: 1})
	if err != nil {
		t.Fatal(err)
	}
	if cmp.Equal(a.Transactions, other.Transactions) {
		t.Error("a different seed gave the same transactions")
	}
}

func TestValidates(t *testing.T) {
	tests := []struct {
		name string
		cfg  demo.Config
	}{
		{"default", demo.Config{Anchor: anchor}},
		{"small, one year", demo.Config{Customers: 5, Years: 1, Anchor: anchor, Seed: 3}},
		{"anchor mid-day", demo.Config{Customers: 20, Anchor: time.Date(2026, 2, 3, 15, 4, 5, 0, time.UTC), Seed: 11}},
		{"anchor on the 1st", demo.Config{Customers: 20, Anchor: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), Seed: 12}},
		{"anchor on a leap day", demo.Config{Customers: 20, Anchor: time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), Seed: 13}},
		{"anchor in another zone", demo.Config{Customers: 10, Anchor: time.Date(2025, 6, 1, 0, 30, 0, 0, time.FixedZone("BST", 3600)), Seed: 14}},
		{"more businesses than names", demo.Config{Customers: 90, Years: 1, Anchor: anchor}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d *ob.BankData
			if tt.name == "default" {
				d, _ = defaultBank()
			} else {
				var err error
				if d, _, err = demo.Generate(tt.cfg); err != nil {
					t.Fatal(err)
				}
			}
			if err := d.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			checkBalances(t, d, tt.cfg)
			checkStatements(t, d)
		})
	}
}

func TestZeroAnchorIsToday(t *testing.T) {
	d, _, err := demo.Generate(demo.Config{Customers: 3, Years: 1})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	for _, b := range d.Balances {
		// Allow for the test running across midnight.
		if !b.DateTime.Equal(today) && !b.DateTime.Equal(today.AddDate(0, 0, -1)) && b.Type != ob.BalanceClosingBooked {
			t.Fatalf("balance dated %v, want the start of today %v", b.DateTime, today)
		}
	}
}

func TestLogins(t *testing.T) {
	d, logins := defaultBank()
	if len(logins) != len(d.Customers) || len(logins) != demo.DefaultCustomers {
		t.Fatalf("%d logins for %d customers, want %d", len(logins), len(d.Customers), demo.DefaultCustomers)
	}
	pw := regexp.MustCompile(`^demo-[0-9]{4}$`)
	user := regexp.MustCompile(`^[a-z]+(\.[a-z]+)+[0-9]*$`)
	users, passwords := map[string]bool{}, map[string]bool{}
	for i, l := range logins {
		c := d.Customers[i]
		if l.CustomerID != c.ID || l.Username != c.Username || l.Name != c.Name {
			t.Errorf("login %d = %+v, does not match customer %s/%s", i, l, c.ID, c.Username)
		}
		if !pw.MatchString(l.Password) {
			t.Errorf("password %q is not demo- and four digits", l.Password)
		}
		if !user.MatchString(l.Username) {
			t.Errorf("username %q is not readable first.last", l.Username)
		}
		if users[l.Username] || passwords[l.Password] {
			t.Errorf("login %d repeats a username or password: %+v", i, l)
		}
		users[l.Username], passwords[l.Password] = true, true
		if cost, err := bcrypt.Cost([]byte(c.PasswordHash)); err != nil || cost != bcrypt.MinCost {
			t.Errorf("%s: hash cost %d (%v), want MinCost", c.ID, cost, err)
		}
		if err := bcrypt.CompareHashAndPassword([]byte(c.PasswordHash), []byte(l.Password)); err != nil {
			t.Errorf("%s: the published password does not match the hash: %v", c.ID, err)
		}
	}
	table := demo.LoginTable(logins, 10)
	if n := strings.Count(table, "\n"); n != 12 {
		t.Errorf("LoginTable has %d lines, want 12:\n%s", n, table)
	}
	if !strings.Contains(table, "`"+logins[0].Username+"`") {
		t.Errorf("LoginTable lacks the first login:\n%s", table)
	}
}

func TestDistribution(t *testing.T) {
	d, _ := defaultBank()
	t.Logf("%d customers, %d accounts, %d transactions, %d statements", len(d.Customers), len(d.Accounts), len(d.Transactions), len(d.Statements))
	if n := len(d.Transactions); n < 100_000 || n > 150_000 {
		t.Errorf("%d transactions, want 100k-150k (the seed budget)", n)
	}

	held := map[string]int{}
	joint := 0
	for _, h := range d.AccountHolders {
		held[h.CustomerID]++
		if h.PartyType == "Joint" {
			joint++
		}
	}
	business, legal := 0, 0
	for _, c := range d.Customers {
		if n := held[c.ID]; n < 2 || n > 4 {
			t.Errorf("customer %s holds %d accounts, want 2-4", c.ID, n)
		}
		if c.LegalStructure != "" {
			legal++
		}
	}
	subtypes, currencies := map[string]int{}, map[string]int{}
	for _, a := range d.Accounts {
		subtypes[a.SubType]++
		currencies[a.Currency]++
		if a.Type == ob.AccountTypeBusiness {
			business++
		}
	}
	t.Logf("subtypes %v, currencies %v", subtypes, currencies)
	if legal < 3 || business < 3 {
		t.Errorf("%d business customers with %d business accounts, want a few", legal, business)
	}
	if joint < 4 {
		t.Errorf("%d joint holdings, want a few joint accounts", joint)
	}
	for _, st := range []string{ob.SubTypeCurrentAccount, ob.SubTypeSavings, ob.SubTypeCreditCard, ob.SubTypeLoan, ob.SubTypeMortgage} {
		if subtypes[st] == 0 {
			t.Errorf("no %s accounts", st)
		}
	}
	if currencies["GBP"] < len(d.Accounts)*8/10 || currencies["EUR"] == 0 {
		t.Errorf("currencies %v: want mostly GBP and some EUR", currencies)
	}

	// Every account has a history spanning the two years.
	start := anchor.AddDate(-2, 0, 0)
	first, last := map[string]time.Time{}, map[string]time.Time{}
	for _, tx := range d.Transactions {
		if f, ok := first[tx.AccountID]; !ok || tx.BookingDateTime.Before(f) {
			first[tx.AccountID] = tx.BookingDateTime
		}
		if tx.BookingDateTime.After(last[tx.AccountID]) {
			last[tx.AccountID] = tx.BookingDateTime
		}
	}
	for _, a := range d.Accounts {
		f, l := first[a.ID], last[a.ID]
		if f.IsZero() || f.After(start.AddDate(0, 0, 40)) || l.Before(anchor.AddDate(0, 0, -40)) || !l.Before(anchor) || f.Before(start) {
			t.Errorf("%s (%s) has transactions from %v to %v, want about %v to %v", a.ID, a.SubType, f, l, start, anchor)
		}
		if !a.OpeningDate.Before(start) {
			t.Errorf("%s opened %v, inside the history window", a.ID, a.OpeningDate)
		}
	}
}

// checkBalances replays every account's entries: each booked entry's
// BalanceAfter is the previous one plus its amount, booking times are
// unique and follow the ids, pending entries are recent, and the balances
// agree with the last entry.
func checkBalances(t *testing.T, d *ob.BankData, cfg demo.Config) {
	t.Helper()
	a := cfg.Anchor
	if a.IsZero() {
		a = anchor
	}
	a = a.UTC()
	today := time.Date(a.Year(), a.Month(), a.Day(), 0, 0, 0, 0, time.UTC)
	byAccount := map[string][]ob.Transaction{}
	for _, tx := range d.Transactions {
		byAccount[tx.AccountID] = append(byAccount[tx.AccountID], tx)
	}
	balances := map[string]map[string]ob.Balance{}
	for _, b := range d.Balances {
		if balances[b.AccountID] == nil {
			balances[b.AccountID] = map[string]ob.Balance{}
		}
		balances[b.AccountID][b.Type] = b
	}
	for _, acc := range d.Accounts {
		txs := byAccount[acc.ID]
		slices.SortFunc(txs, func(x, y ob.Transaction) int { return x.BookingDateTime.Compare(y.BookingDateTime) })
		var booked, pending int64
		started := false
		for i, tx := range txs {
			if i > 0 && (!tx.BookingDateTime.After(txs[i-1].BookingDateTime) || tx.ID <= txs[i-1].ID) {
				t.Fatalf("%s: %s and %s are not in strict time and id order", acc.ID, txs[i-1].ID, tx.ID)
			}
			if !tx.BookingDateTime.Before(today) {
				t.Fatalf("%s: %s is booked %v, not before the Anchor's day", acc.ID, tx.ID, tx.BookingDateTime)
			}
			switch tx.Status {
			case ob.TxPending:
				if tx.BalanceAfter != nil || tx.BookingDateTime.Before(today.AddDate(0, 0, -2)) {
					t.Fatalf("%s: pending %s has a balance or is older than two days", acc.ID, tx.ID)
				}
				pending += tx.Amount.Minor
			case ob.TxBooked:
				if tx.BalanceAfter == nil {
					t.Fatalf("%s: booked %s has no BalanceAfter", acc.ID, tx.ID)
				}
				if started && tx.BalanceAfter.Minor != booked+tx.Amount.Minor {
					t.Fatalf("%s: %s balance %d, want %d + %d", acc.ID, tx.ID, tx.BalanceAfter.Minor, booked, tx.Amount.Minor)
				}
				booked, started = tx.BalanceAfter.Minor, true
			}
			if tx.Amount.Minor == 0 {
				t.Errorf("%s: %s moves no money", acc.ID, tx.ID)
			}
		}
		bs := balances[acc.ID]
		ib, ia, cb := bs[ob.BalanceInterimBooked], bs[ob.BalanceInterimAvailable], bs[ob.BalanceClosingBooked]
		if !started {
			booked = ib.Amount.Minor
		}
		if ib.Amount.Minor != booked || cb.Amount.Minor != booked {
			t.Errorf("%s: InterimBooked %d, ClosingBooked %d, want the last BalanceAfter %d", acc.ID, ib.Amount.Minor, cb.Amount.Minor, booked)
		}
		var included int64
		for _, cl := range ia.CreditLines {
			if cl.Included {
				included += cl.Amount.Minor
			}
		}
		if ia.Amount.Minor != booked+pending+included {
			t.Errorf("%s: InterimAvailable %d, want booked %d + pending %d + credit %d", acc.ID, ia.Amount.Minor, booked, pending, included)
		}
		if !ib.DateTime.Equal(a) || !cb.DateTime.Before(today) || cb.DateTime.Before(today.Add(-time.Minute)) {
			t.Errorf("%s: balances dated %v / %v", acc.ID, ib.DateTime, cb.DateTime)
		}
		// Current accounts stay inside their overdraft; cards inside their limit.
		for _, tx := range txs {
			if tx.BalanceAfter == nil {
				continue
			}
			limit := int64(0)
			for _, cl := range ib.CreditLines {
				limit += cl.Amount.Minor
			}
			if acc.SubType == ob.SubTypeCurrentAccount || acc.SubType == ob.SubTypeCreditCard || acc.SubType == ob.SubTypeSavings {
				if tx.BalanceAfter.Minor < -limit {
					t.Errorf("%s: %s takes the balance to %d, past the limit %d", acc.ID, tx.ID, tx.BalanceAfter.Minor, limit)
					break
				}
			}
			if (acc.SubType == ob.SubTypeCreditCard || acc.SubType == ob.SubTypeLoan || acc.SubType == ob.SubTypeMortgage) && tx.BalanceAfter.Minor > 0 {
				t.Errorf("%s: %s leaves the %s in credit (%d)", acc.ID, tx.ID, acc.SubType, tx.BalanceAfter.Minor)
				break
			}
		}
	}
}

// checkStatements recomputes every statement from the booked entries of its
// period and checks the months follow on from each other.
func checkStatements(t *testing.T, d *ob.BankData) {
	t.Helper()
	amount := func(s ob.Statement, typ string) int64 {
		for _, a := range s.Amounts {
			if a.Type == typ {
				return a.Amount.Minor
			}
		}
		t.Fatalf("statement %s has no %s", s.ID, typ)
		return 0
	}
	type sums struct{ in, out int64 }
	byStatement := map[string]*sums{} // by AccountID + reference
	for _, tx := range d.Transactions {
		if tx.Status != ob.TxBooked {
			continue
		}
		for _, ref := range tx.StatementReferences {
			k := tx.AccountID + "/" + ref
			if byStatement[k] == nil {
				byStatement[k] = &sums{}
			}
			if tx.Amount.Minor >= 0 {
				byStatement[k].in += tx.Amount.Minor
			} else {
				byStatement[k].out += tx.Amount.Minor
			}
		}
	}
	prev := map[string]ob.Statement{}
	seen := 0
	for _, s := range d.Statements {
		got := byStatement[s.AccountID+"/"+s.Reference]
		if got == nil {
			got = &sums{}
		}
		seen++
		in, out := amount(s, ob.StatementAmountTotalCredits), amount(s, ob.StatementAmountTotalDebits)
		open, closing := amount(s, ob.StatementAmountStartingBalance), amount(s, ob.StatementAmountClosingBalance)
		if in != got.in || out != got.out || closing != open+in+out {
			t.Fatalf("statement %s: open %d in %d out %d close %d; entries say in %d out %d", s.ID, open, in, out, closing, got.in, got.out)
		}
		if s.StartDateTime.Day() != 1 || s.EndDateTime.Add(time.Second) != s.StartDateTime.AddDate(0, 1, 0) || !s.CreationDateTime.After(s.EndDateTime) {
			t.Fatalf("statement %s: period %v-%v created %v is not a calendar month", s.ID, s.StartDateTime, s.EndDateTime, s.CreationDateTime)
		}
		if p, ok := prev[s.AccountID]; ok {
			if !p.StartDateTime.AddDate(0, 1, 0).Equal(s.StartDateTime) || amount(p, ob.StatementAmountClosingBalance) != open {
				t.Fatalf("statement %s does not follow on from %s", s.ID, p.ID)
			}
		}
		prev[s.AccountID] = s
	}
	if seen == 0 {
		t.Fatal("no statements")
	}
	// Every statement-referenced month has a statement.
	refs := map[string]bool{}
	for _, s := range d.Statements {
		refs[s.AccountID+"/"+s.Reference] = true
	}
	for k := range byStatement {
		if !refs[k] {
			t.Fatalf("entries reference %s, which has no statement", k)
		}
	}
}

// TestSpecConstraints checks what ob.Validate leaves to the bank's own
// choice: the demo keeps every reference to OBIE's 35 characters, uses real
// ISO 18245 codes and stays consistent in time.
func TestSpecConstraints(t *testing.T) {
	d, _ := defaultBank()
	mcc := map[string]bool{ // the ISO 18245 codes the demo is allowed to use
		"4111": true, "4112": true, "4121": true, "4511": true, "4816": true, "4899": true, "5111": true, "5200": true,
		"5211": true, "5300": true, "5311": true, "5411": true, "5541": true, "5651": true, "5712": true, "5732": true,
		"5735": true, "5812": true, "5813": true, "5814": true, "5815": true, "5816": true, "5912": true, "5941": true,
		"5942": true, "5968": true, "5999": true, "6011": true, "7011": true, "7832": true, "7922": true, "9402": true,
	}
	categories := map[string]bool{"Groceries": true, "Transport": true, "Eating out": true, "Bills": true, "Shopping": true,
		"Entertainment": true, "Travel": true, "Health": true, "Cash": true, "Income": true, "Transfers": true}
	for _, tx := range d.Transactions {
		switch {
		case len(tx.Reference) > 35:
			t.Fatalf("%s: Reference %q is over 35", tx.ID, tx.Reference)
		case len(tx.ID) > 40:
			t.Fatalf("%s: id over 40", tx.ID)
		case tx.Information == "" || tx.BankTransactionCode == nil || tx.ProprietaryBankTransactionCode == nil || tx.ValueDateTime == nil:
			t.Fatalf("%s lacks information, codes or value date", tx.ID)
		case !categories[tx.Category]:
			t.Fatalf("%s: category %q", tx.ID, tx.Category)
		case tx.Card != nil && (tx.Merchant == nil || !mcc[tx.Merchant.CategoryCode] || tx.Card.Identification == ""):
			t.Fatalf("%s: a card payment without a merchant of a known MCC: %+v", tx.ID, tx.Merchant)
		case tx.BankTransactionCode.SubCode == "DomesticCreditTransfer" && tx.CreditorAccount == nil && tx.DebtorAccount == nil &&
			!strings.HasPrefix(tx.Information, "Payroll") && tx.Information != "HMRC VAT":
			t.Fatalf("%s: a transfer naming no counterparty", tx.ID)
		}
	}
	for _, a := range d.Accounts {
		if len(a.ID) > 40 || len(a.Nickname) > 70 || len(a.Description) > 35 || a.Status != "Enabled" {
			t.Errorf("account %s: %+v", a.ID, a)
		}
		schemes := map[string]bool{}
		for _, id := range a.Identifications {
			schemes[id.SchemeName] = true
		}
		if a.SubType == ob.SubTypeCreditCard {
			if !schemes[ob.SchemePAN] {
				t.Errorf("card %s not identified by PAN", a.ID)
			}
		} else if !schemes[ob.SchemeSortCodeAccountNumber] || !schemes[ob.SchemeIBAN] {
			t.Errorf("account %s lacks a sort code or IBAN", a.ID)
		}
	}
	for _, so := range d.StandingOrders {
		if so.Status == "Active" && (so.NextPaymentDateTime == nil || !so.NextPaymentDateTime.After(anchor)) {
			t.Errorf("active standing order %s: next payment %v is not after the Anchor", so.ID, so.NextPaymentDateTime)
		}
		if !ob.ValidFrequency(so.Frequency) || len(so.Reference) > 35 {
			t.Errorf("standing order %s: %q %q", so.ID, so.Frequency, so.Reference)
		}
	}
	for _, sp := range d.ScheduledPayments {
		if !sp.ScheduledPaymentDateTime.After(anchor) {
			t.Errorf("scheduled payment %s is not in the future", sp.ID)
		}
	}
	active, inactive := 0, 0
	for _, dd := range d.DirectDebits {
		if dd.Status == "Active" {
			active++
		} else {
			inactive++
		}
		if dd.PreviousPaymentDateTime != nil && !dd.PreviousPaymentDateTime.Before(anchor) {
			t.Errorf("direct debit %s was last paid in the future", dd.ID)
		}
	}
	if inactive == 0 || active == 0 {
		t.Errorf("%d active and %d inactive direct debits, want both", active, inactive)
	}
	perAccount := map[string]int{}
	for _, b := range d.Beneficiaries {
		perAccount[b.AccountID]++
	}
	for _, a := range d.Accounts {
		if a.SubType == ob.SubTypeCurrentAccount && a.Currency == "GBP" {
			if n := perAccount[a.ID]; n < 2 || n > 8 {
				t.Errorf("current account %s has %d beneficiaries", a.ID, n)
			}
		}
	}
	if len(d.Offers) == 0 || len(d.Products) != len(d.Accounts) {
		t.Errorf("%d offers and %d products for %d accounts", len(d.Offers), len(d.Products), len(d.Accounts))
	}
	for _, c := range d.Customers {
		if c.Address == nil || c.Address.Country != "GB" || !ob.ValidPhone(c.Mobile) || c.Email == "" || c.FullLegalName == "" {
			t.Errorf("customer %s: %+v", c.ID, c)
		}
	}
}

func TestConfigLimits(t *testing.T) {
	for _, cfg := range []demo.Config{{Customers: 100000}, {Years: 51}} {
		if _, _, err := demo.Generate(cfg); err == nil {
			t.Errorf("Generate(%+v) accepted an oversized bank", cfg)
		}
		if _, err := demo.Logins(cfg); err == nil {
			t.Errorf("Logins(%+v) accepted an oversized bank", cfg)
		}
	}
}

// Logins gives the logins of the bank Generate makes, for banks of every
// mix of households (businesses, couples, single people) and seeds.
func TestLoginsWithoutTheBank(t *testing.T) {
	_, want := defaultBank()
	cases := []struct {
		cfg  demo.Config
		want []demo.Login
	}{{demo.Config{Anchor: anchor}, want}}
	for _, cfg := range []demo.Config{
		{Customers: 1, Anchor: anchor, Years: 1},
		{Customers: 7, Seed: 99, Anchor: anchor, Years: 1},
		{Customers: 23, Seed: 3, Anchor: anchor, Years: 1},
	} {
		_, l, err := demo.Generate(cfg)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, struct {
			cfg  demo.Config
			want []demo.Login
		}{cfg, l})
	}
	for _, tc := range cases {
		got, err := demo.Logins(tc.cfg)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("Logins(%+v) differs from Generate's (-want +got):\n%s", tc.cfg, diff)
		}
	}
}
