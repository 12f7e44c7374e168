package httpapi

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/obank/obank/ob"
	"github.com/obank/obank/obtest"
)

// TestTransactionsJSON holds the hand-written encoder to encoding/json's
// output, byte for byte, over the fixture's transactions (every optional
// part), rows with every part present but empty, and strings that need
// escaping.
func TestTransactionsJSON(t *testing.T) {
	txs := obtest.Fixture().Transactions
	tricky := []string{"", "plain", `quote " and \ backslash`, "<b>&amp;</b>", "tab\tnew\nline\r\x00\x1f\x7f",
		"café £ – 😀", "bad \xff utf8", "line\u2028sep\u2029", strings.Repeat("x", 500)}
	at := time.Date(2026, 3, 4, 5, 6, 7, 890000000, time.UTC)
	for i, s := range tricky {
		txs = append(txs, ob.Transaction{
			ID: s, AccountID: s, Reference: s, StatementReferences: []string{s, s}, Status: s, Mutability: s,
			BookingDateTime: at, ValueDateTime: &at, Information: s, AddressLine: s,
			Amount:                         ob.Money{Minor: int64(-i), Currency: s},
			ChargeAmount:                   &ob.Money{Minor: int64(i), Currency: s},
			BankTransactionCode:            &ob.BankTransactionCode{Code: s, SubCode: s},
			ProprietaryBankTransactionCode: &ob.ProprietaryCode{Code: s, Issuer: s},
			BalanceAfter:                   &ob.Money{Minor: int64(i * 100), Currency: s},
			Merchant:                       &ob.Merchant{Name: s, CategoryCode: s},
			Category:                       s,
			CreditorAgent:                  &ob.Agent{SchemeName: s, Identification: s, Name: s},
			CreditorAccount:                &ob.AccountIdentification{SchemeName: s, Identification: s},
			DebtorAgent:                    &ob.Agent{Name: s},
			DebtorAccount:                  &ob.AccountIdentification{Name: s, SecondaryIdentification: s},
			Card:                           &ob.CardInstrument{SchemeName: s, AuthorisationType: s, Name: s, Identification: s},
		}, ob.Transaction{ID: s, BookingDateTime: at, Merchant: &ob.Merchant{CategoryCode: s},
			ProprietaryBankTransactionCode: &ob.ProprietaryCode{}, Card: &ob.CardInstrument{}, StatementReferences: []string{}})
	}
	atNano := at.Add(time.Nanosecond)
	// Zero and non-UTC times, a credit of zero, a debit balance.
	txs = append(txs, ob.Transaction{ValueDateTime: &time.Time{}, Amount: ob.Money{Currency: "GBP"}},
		ob.Transaction{ID: "tz", BookingDateTime: at.In(time.FixedZone("X", 5*3600+1800)), ValueDateTime: &atNano,
			Amount: ob.Money{Minor: -1, Currency: "JPY"}, BalanceAfter: &ob.Money{Minor: -123456, Currency: "GBP"}})
	// Amounts around the minor-unit point, in currencies of 0, 2 and 3
	// decimals, and the extremes.
	for _, minor := range []int64{0, 1, -1, 9, 10, 99, 100, -101, 1000, 123456789, math.MaxInt64, math.MinInt64, math.MinInt64 + 1} {
		for _, ccy := range []string{"GBP", "JPY", "BHD", "", "XXX"} {
			txs = append(txs, ob.Transaction{ID: "amt", BookingDateTime: at, Amount: ob.Money{Minor: minor, Currency: ccy},
				ChargeAmount: &ob.Money{Minor: -minor, Currency: ccy}, BalanceAfter: &ob.Money{Minor: minor / 7, Currency: ccy}})
		}
	}
	links := obLinks{Self: "https://x/a?b=<c>&d", First: "f", Next: "n"}
	meta := obMeta{TotalPages: 3, FirstAvailableDateTime: "2026-01-01T00:00:00+00:00"}
	for _, page := range [][]ob.Transaction{nil, {}, txs[:1], txs} {
		want, err := json.Marshal(envelope[obTransactionData]{
			Data: obTransactionData{Transaction: mapSlice(page, transaction)}, Links: links, Meta: meta})
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendTransactionsEnvelope(nil, page, links, meta)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("%d rows:\n got %s\nwant %s", len(page), got, want)
		}
	}
}

// TestTransactionsTail holds the hand-written Links and Meta of a page to
// encoding/json, with and without each optional member, and with URLs that
// need escaping.
func TestTransactionsTail(t *testing.T) {
	self := "https://obank.example/open-banking/v3.1/aisp/accounts/a/transactions?fromBookingDateTime=2026-01-01T00:00:00&page=2"
	for _, tc := range []struct {
		links obLinks
		meta  obMeta
	}{
		{obLinks{Self: self}, obMeta{}},
		{obLinks{Self: self, First: self + "&x=1", Prev: "p", Next: "n<>", Last: "l\u2028"},
			obMeta{TotalPages: 12, FirstAvailableDateTime: "2024-01-01T00:00:00Z", LastAvailableDateTime: "2026-01-01T00:00:00Z"}},
		{obLinks{Self: "", Next: "n"}, obMeta{TotalPages: 1}},
		{obLinks{Self: "s", Last: "l"}, obMeta{LastAvailableDateTime: "x"}},
		{obLinks{Self: "s", Prev: "p"}, obMeta{FirstAvailableDateTime: "f"}},
		{obLinks{Self: "s"}, obMeta{TotalPages: -1, LastAvailableDateTime: "x"}},
	} {
		got, err := appendTransactionsTail(nil, tc.links, tc.meta)
		if err != nil {
			t.Fatal(err)
		}
		l, _ := json.Marshal(tc.links)
		m, _ := json.Marshal(tc.meta)
		if want := `]},"Links":` + string(l) + `,"Meta":` + string(m) + `}`; string(got) != want {
			t.Errorf("tail of %+v %+v:\n got %s\nwant %s", tc.links, tc.meta, got, want)
		}
	}
}
