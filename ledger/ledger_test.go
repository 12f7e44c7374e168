package ledger_test

import (
	"errors"
	"go/build"
	"testing"
	"time"

	"github.com/obank/obank/ledger"
	"github.com/obank/obank/ob"
)

func gbp(minor int64) ob.Money { return ob.Money{Minor: minor, Currency: "GBP"} }

func TestValidate(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := func(id string, m ob.Money) ledger.Posting { return ledger.Posting{AccountID: id, Amount: m} }
	eur := func(minor int64) ob.Money { return ob.Money{Minor: minor, Currency: "EUR"} }
	for _, c := range []struct {
		name string
		e    ledger.Entry
		want error
	}{
		{"transfer", ledger.Transfer("e", ledger.EntryInternal, "", "a", "b", gbp(1), at), nil},
		{"three legs", ledger.Entry{ID: "e", At: at, Postings: []ledger.Posting{p("a", gbp(-3)), p("b", gbp(2)), p("c", gbp(1))}}, nil},
		{"two currencies, each balanced", ledger.Entry{ID: "e", At: at, Postings: []ledger.Posting{
			p("a", gbp(-3)), p("b", gbp(3)), p("c", eur(-1)), p("d", eur(1))}}, nil},
		{"settlement", ledger.Transfer("e", ledger.EntryOutbound, "", "a", ledger.SettlementAccount("GBP"), gbp(5), at), nil},
		{"no id", ledger.Transfer("", ledger.EntryInternal, "", "a", "b", gbp(1), at), ledger.ErrInvalidEntry},
		{"no time", ledger.Transfer("e", ledger.EntryInternal, "", "a", "b", gbp(1), time.Time{}), ledger.ErrInvalidEntry},
		{"one posting", ledger.Entry{ID: "e", At: at, Postings: []ledger.Posting{p("a", gbp(1))}}, ledger.ErrInvalidEntry},
		{"zero", ledger.Transfer("e", ledger.EntryInternal, "", "a", "b", gbp(0), at), ledger.ErrInvalidEntry},
		{"bad currency", ledger.Transfer("e", ledger.EntryInternal, "", "a", "b", ob.Money{Minor: 1, Currency: "gbp"}, at), ledger.ErrInvalidEntry},
		{"no account", ledger.Transfer("e", ledger.EntryInternal, "", "a", "", gbp(1), at), ledger.ErrInvalidEntry},
		{"unbalanced", ledger.Entry{ID: "e", At: at, Postings: []ledger.Posting{p("a", gbp(-3)), p("b", gbp(2))}}, ledger.ErrUnbalanced},
		{"balanced only across currencies", ledger.Entry{ID: "e", At: at, Postings: []ledger.Posting{p("a", gbp(-3)), p("b", eur(3))}}, ledger.ErrUnbalanced},
		{"account in two currencies", ledger.Entry{ID: "e", At: at, Postings: []ledger.Posting{
			p("a", gbp(-3)), p("b", gbp(3)), p("a", eur(-1)), p("d", eur(1))}}, ledger.ErrInvalidEntry},
		{"bank account of another currency", ledger.Transfer("e", ledger.EntryOutbound, "", "a", ledger.SettlementAccount("EUR"), gbp(5), at), ledger.ErrInvalidEntry},
		{"overflow", ledger.Entry{ID: "e", At: at, Postings: []ledger.Posting{
			p("a", gbp(1<<62)), p("b", gbp(1<<62)), p("c", gbp(-1))}}, ledger.ErrInvalidEntry},
	} {
		err := c.e.Validate()
		if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
			t.Errorf("%s: Validate() = %v, want %v", c.name, err, c.want)
		}
		if err != nil && ob.ErrorCode(err) != c.want.(*ob.Error).Code {
			t.Errorf("%s: code %s, want %s", c.name, ob.ErrorCode(err), c.want.(*ob.Error).Code)
		}
	}
}

func TestAllows(t *testing.T) {
	lim := int64(500)
	a := ledger.Account{Balance: gbp(100), Limit: &lim}
	for delta, want := range map[int64]bool{-600: true, -601: false, 10: true, -1 << 63: false} {
		if got := a.Allows(delta); got != want {
			t.Errorf("Allows(%d) = %v, want %v", delta, got, want)
		}
	}
	if !(ledger.Account{Balance: gbp(-1 << 40)}).Allows(-1) {
		t.Error("an account without a limit refused a debit")
	}
	below := ledger.Account{Balance: gbp(-1000), Limit: &lim}
	if !below.Allows(1) || below.Allows(-1) {
		t.Error("an account past its limit: want credits allowed, debits refused")
	}
}

func TestBankAccount(t *testing.T) {
	for id, want := range map[string]string{
		ledger.SettlementAccount("GBP"): ledger.KindSettlement,
		ledger.ClearingAccount("GBP"):   ledger.KindClearing,
		ledger.EquityAccount("EUR"):     ledger.KindEquity,
		ledger.SuspenseAccount("USD"):   ledger.KindSuspense,
		"bank:other:GBP":                "",
		"bank:settlement:gb":            "",
		"acc-1":                         "",
	} {
		kind, _, ok := ledger.BankAccount(id)
		if kind != want || ok != (want != "") {
			t.Errorf("BankAccount(%q) = %q, %v; want %q", id, kind, ok, want)
		}
	}
}

// The domain stays free of HTTP and SQL.
func TestImports(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports {
		switch imp {
		case "net/http", "database/sql":
			t.Errorf("package ledger imports %s", imp)
		}
	}
}
