package sqlstore

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/obank/obank/ob"
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

func TestTxParts(t *testing.T) {
	for _, tx := range txPartsCases() {
		enc := encodeTxParts(&tx)
		var got ob.Transaction
		if err := decodeTxParts(enc, &got); err != nil {
			t.Errorf("decodeTxParts(%q): %v", enc, err)
			continue
		}
		if diff := cmp.Diff(tx, got); diff != "" {
			t.Errorf("round trip of %q (-want +got):\n%s", enc, diff)
		}
	}
	// The head alone is a transaction without optional parts.
	const head = "0:0:0:0:0:0:0:0:"
	if err := decodeTxParts(head, new(ob.Transaction)); err != nil {
		t.Errorf("decodeTxParts(%q): %v", head, err)
	}
	// A malformed head.
	for _, bad := range []string{"", "0:", "0:0:0:0:0:0:0:", "0:0:0:2:01:0:0:0:0:", "0:0:0:2:+1:0:0:0:0:",
		"0:0:0:2:-0:0:0:0:0:", "0:0:0:1:x0:0:0:0:", "0:0:0:1:-0:0:0:0:", "0:0:0:20:99999999999999999999" +
			"0:0:0:0:", "1:a1:b", "0:0:0:0:0:0:0:1:"} {
		if err := decodeTxParts(bad, new(ob.Transaction)); err == nil {
			t.Errorf("decodeTxParts(%q) = nil error, want one", bad)
		}
	}
	// Malformed groups after a good head.
	for _, bad := range []string{"X", "B", "B1:a", "B1:a2:b", "B01:a1:b", "B-1:a1:b", "B1:a1:bB1:a1:b",
		"M1:a1:bB1:a1:b", "A2:+11:x", "A2:011:x", "A2:-01:x", "A2:-00:x", "A1:x1:G", "C1:a1:b1:c", "B1:a1:b ",
		"B99999999999:a1:b", "S0:", "S1:2", "S2:011:a", "S2:-1", "S1:11:a1:b", "R0:0:0:1:2", "R0:0:0:1:1",
		"R0:0:0:0:r0:0:0:0:R0:0:0:0:", "d0:0:0:", "G1:51:"} {
		var got ob.Transaction
		if err := decodeTxParts(head+bad, &got); err == nil {
			t.Errorf("decodeTxParts(%q) = nil error, want one", head+bad)
		}
	}
}

// TestFieldFastPath holds partsDec.field, which reads one- and two-digit
// lengths without a loop, to fieldLoop on every string of up to five bytes
// over the bytes that matter, and on each of them followed by more.
func TestFieldFastPath(t *testing.T) {
	const alphabet = "0129:a/;"
	var inputs []string
	var grow func(prefix string)
	grow = func(prefix string) {
		inputs = append(inputs, prefix, prefix+strings.Repeat("x", 40), prefix+strings.Repeat("y", 120))
		if len(prefix) == 5 {
			return
		}
		for i := range len(alphabet) {
			grow(prefix + alphabet[i:i+1])
		}
	}
	grow("")
	for _, in := range inputs {
		fast, slow := partsDec{s: in}, partsDec{s: in}
		got, want := fast.field(), slow.fieldLoop()
		if got != want || fast.s != slow.s || fast.bad != slow.bad {
			t.Fatalf("field(%q) = %q, rest %q, bad %v; fieldLoop: %q, rest %q, bad %v",
				in, got, fast.s, fast.bad, want, slow.s, slow.bad)
		}
	}
}

// txPartsCases are transactions with every group of the parts encoding,
// none, and the edge values of each.
func txPartsCases() []ob.Transaction {
	value := time.Date(2026, 1, 2, 3, 4, 5, 678901000, time.UTC)
	before1970 := time.Date(1969, 12, 31, 23, 59, 59, 1000, time.UTC)
	epoch := time.Unix(0, 0).UTC()
	return []ob.Transaction{
		{},
		{Reference: "PAYMENT 1", Status: ob.TxBooked, Mutability: "Immutable", ValueDateTime: &value,
			Information: "Card: payment 12:", AddressLine: "1 High St", Amount: ob.Money{Currency: "GBP"}, Category: "groceries"},
		{ValueDateTime: &before1970, Category: "x", BankTransactionCode: &ob.BankTransactionCode{Code: "c"}},
		{ValueDateTime: &epoch, Reference: strings.Repeat("r", 1000)},
		{BankTransactionCode: &ob.BankTransactionCode{}},
		{BankTransactionCode: &ob.BankTransactionCode{Code: "IssuedCreditTransfers", SubCode: "DomesticCreditTransfer"},
			ProprietaryBankTransactionCode: &ob.ProprietaryCode{Code: "FPS", Issuer: "obank"},
			BalanceAfter:                   &ob.Money{Minor: -12345678901234, Currency: "GBP"},
			Merchant:                       &ob.Merchant{Name: "Café: 12:3B\x00", CategoryCode: "5411"},
			Card:                           &ob.CardInstrument{SchemeName: "VISA", AuthorisationType: "PIN", Name: "A B", Identification: "1234"}},
		{BalanceAfter: &ob.Money{}, Card: &ob.CardInstrument{Name: "9:x"}},
		{ChargeAmount: &ob.Money{Minor: 5, Currency: "GBP"}, BalanceAfter: &ob.Money{Minor: 1000, Currency: "EUR"}},
		{StatementReferences: []string{}, DebtorAgent: &ob.Agent{}, CreditorAccount: &ob.AccountIdentification{}},
		{StatementReferences: []string{"", "s:1", "12"}, ChargeAmount: &ob.Money{Minor: -25, Currency: "EUR"},
			CreditorAgent: &ob.Agent{SchemeName: "BICFI", Identification: "X", Name: "N", PostalAddress: &ob.PostalAddress{
				AddressType: "Business", Department: "d", SubDepartment: "sd", StreetName: "st", BuildingNumber: "1",
				PostCode: "pc", TownName: "t", CountrySubDivision: "csd", Country: "GB", AddressLines: []string{"a", ""}}},
			CreditorAccount: &ob.AccountIdentification{SchemeName: "s", Identification: "i", Name: "n", SecondaryIdentification: "2"},
			DebtorAgent:     &ob.Agent{Name: "d", PostalAddress: &ob.PostalAddress{}},
			DebtorAccount:   &ob.AccountIdentification{Name: "x"},
			Card:            &ob.CardInstrument{SchemeName: "VISA"}},
		{CreditorAgent: &ob.Agent{PostalAddress: &ob.PostalAddress{AddressLines: []string{}}}},
		{Merchant: &ob.Merchant{Name: strings.Repeat("é", 300)}},
	}
}

// TestScratchReuse: records decoded one after the other into one
// txScratch, as a page is, each give the transaction a fresh decode gives,
// whatever groups the record before had.
func TestScratchReuse(t *testing.T) {
	cases := txPartsCases()
	var stream string
	var order []ob.Transaction
	// Every case three times: in order, reversed, and from both ends in
	// turn, so that each follows records with other groups.
	orders := [3]func(i int) int{
		func(i int) int { return i },
		func(i int) int { return len(cases) - 1 - i },
		func(i int) int {
			if i%2 == 0 {
				return i / 2
			}
			return len(cases) - 1 - i/2
		},
	}
	for round, pick := range orders {
		for i := range cases {
			tx := cases[pick(i)]
			tx.ID, tx.AccountID = fmt.Sprintf("tx-%d-%d", round, i), "acc-1"
			tx.BookingDateTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(-time.Duration(len(order)) * time.Hour)
			stream += encodeTxRecord(&tx)
			order = append(order, tx)
		}
	}
	recs, err := splitTxRecords(stream, nil)
	if err != nil || len(recs) != len(order) {
		t.Fatalf("split: %d records, %v", len(recs), err)
	}
	fresh, err := decodeTxRecords(stream, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var s txScratch
	for i := range recs {
		got, _, err := s.decodeSplit(&recs[i])
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(fresh[i], *got); diff != "" {
			t.Fatalf("record %d after %d others (-fresh +reused):\n%s", i, i, diff)
		}
		if diff := cmp.Diff(order[i], *got); diff != "" {
			t.Fatalf("record %d (-encoded +decoded):\n%s", i, diff)
		}
	}
}

// TestTxRecordPlainMark: a record whose text is all plain is marked so, one
// with anything to escape is not, and both decode to the transaction.
func TestTxRecordPlainMark(t *testing.T) {
	at := time.Date(2026, 1, 15, 9, 30, 0, 0, time.UTC)
	plain := ob.Transaction{ID: "tx-1", AccountID: "acc-1", Reference: "INV 42", Status: ob.TxBooked,
		BookingDateTime: at, Amount: ob.Money{Minor: -1050, Currency: "GBP"}, Information: "Coffee shop"}
	fancy := plain
	fancy.Information = "Café & <cake>"
	for _, tc := range []struct {
		tx    ob.Transaction
		plain bool
	}{{plain, true}, {fancy, false}} {
		rec := encodeTxRecord(&tc.tx)
		recs, err := splitTxRecords(rec, nil)
		if err != nil || len(recs) != 1 || recs[0].id != tc.tx.ID {
			t.Fatalf("split %q = %+v, %v", rec, recs, err)
		}
		// A record on its own (decode) and one of a split page
		// (decodeSplit) decode alike.
		var s txScratch
		d := partsDec{s: rec}
		body := d.field()
		decoders := map[string]func() (*ob.Transaction, bool, error){
			"decode":      func() (*ob.Transaction, bool, error) { return s.decode(body) },
			"decodeSplit": func() (*ob.Transaction, bool, error) { return s.decodeSplit(&recs[0]) },
		}
		for name, decode := range decoders {
			got, isPlain, err := decode()
			if err != nil {
				t.Fatal(name, err)
			}
			if isPlain != tc.plain {
				t.Errorf("%s %q: plain = %v, want %v", name, tc.tx.Information, isPlain, tc.plain)
			}
			if diff := cmp.Diff(tc.tx, *got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", name, diff)
			}
		}
		// The slice path reads marked records too.
		txs, err := decodeTxRecords(rec, nil, nil)
		if err != nil || len(txs) != 1 || txs[0].Information != tc.tx.Information {
			t.Errorf("decodeTxRecords = %+v, %v", txs, err)
		}
	}
}
