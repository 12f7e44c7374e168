package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/obank/obank/ais"
	"github.com/obank/obank/ob"
	"github.com/obank/obank/obtest"
	"github.com/obank/obank/sqlite"
)

// TestScanTransactionsJSON holds the fast path of a transactions page (the
// store's records streamed through ais.Service.ScanTransactions into
// txPageWriter) to the reference path (ais.Service.Transactions, whose
// redaction is the table-tested one, encoded by encoding/json) byte for
// byte: for every permission combination (Basic or Detail, with or without
// ReadPAN, credits, debits or both), on first, middle, last and numbered
// pages, over the fixture's transactions (every optional part), cards and
// PAN counterparties, with the SQL store's scanner and through the
// fallback for a store without one.
func TestScanTransactionsJSON(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "obank.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	d := obtest.Fixture()
	acc := d.Accounts[0]
	// The fixture's transactions of acc, repeated with PAN counterparties
	// and card numbers, so that every page mixes them.
	var extra []ob.Transaction
	for i := range 3 {
		for _, tx := range d.Transactions {
			tx.ID = fmt.Sprintf("scan-%d-%s", i, tx.ID)
			tx.AccountID = acc.ID
			tx.BookingDateTime = tx.BookingDateTime.Add(-time.Duration(i+1) * 24 * time.Hour)
			if i == 1 {
				tx.DebtorAccount = &ob.AccountIdentification{SchemeName: ob.SchemePAN, Identification: "4929000000006"}
				tx.CreditorAccount = &ob.AccountIdentification{SchemeName: ob.SchemePAN, Identification: "5555444433332222",
					Name: "Card"}
				tx.Card = &ob.CardInstrument{SchemeName: "VISA", Identification: "4111111111111111"}
			}
			if i == 2 {
				// Text that must be escaped: not plain, so written through
				// the escaping path, beside rows the store marked plain.
				tx.Information = `Café <b>"Latte"</b> & \ cake` + "\u2028"
				tx.Reference = "R&D"
			}
			extra = append(extra, tx)
		}
	}
	d.Transactions = append(d.Transactions, extra...)
	if err := store.Import(ctx, d); err != nil {
		t.Fatal(err)
	}
	now := obtest.FixtureTime()
	const size = 4
	l := linker{base: "https://obank.example/p", query: url.Values{"q": {"<&>"}}, self: "https://obank.example/p?q"}
	stores := map[string]ob.BankReader{
		"scanner":  store,
		"fallback": struct{ ob.BankReader }{store}, // hides ScanTransactions
	}
	for storeName, st := range stores {
		svc := &ais.Service{Store: st, Now: func() time.Time { return now }}
		ref := &ais.Service{Store: struct{ ob.BankReader }{store}, Now: svc.Now}
		for _, level := range []ob.Permission{ob.ReadTransactionsBasic, ob.ReadTransactionsDetail} {
			for _, pan := range []bool{false, true} {
				for _, sides := range [][]ob.Permission{
					{ob.ReadTransactionsCredits}, {ob.ReadTransactionsDebits},
					{ob.ReadTransactionsCredits, ob.ReadTransactionsDebits},
				} {
					perms := append(ob.Permissions{level}, sides...)
					if pan {
						perms = append(perms, ob.ReadPAN)
					}
					g := ob.AccessGrant{ID: "g", CustomerID: acc.CustomerID, AccountIDs: []string{acc.ID},
						Permissions: perms, CreatedAt: now}
					name := fmt.Sprintf("%s/%v", storeName, perms)
					// Walk the listing forwards by Next from the first
					// page, then the last page and a numbered one.
					cursors := []ob.TxCursor{{Mode: ob.CursorFirst, Page: 1}}
					pages := 0
					for i := 0; i < len(cursors); i++ {
						cur := cursors[i]
						req := ais.TransactionsRequest{AccountID: acc.ID, PageSize: size, Cursor: cur}
						want, page := referencePage(t, ref, g, req, l)
						got := scanPage(t, svc, g, req, l)
						if got != want {
							t.Errorf("%s cursor %+v:\n got %s\nwant %s", name, cur, got, want)
						}
						if i == 0 {
							pages = totalPages(page.Total, size)
							if pages < 3 {
								t.Fatalf("%s: %d pages, want at least 3 to test paging", name, pages)
							}
							cursors = append(cursors, ob.TxCursor{Mode: ob.CursorLast, Page: pages},
								ob.TxCursor{Mode: ob.CursorPage, Page: 2})
						}
						if n := nextCursor(t, want); n != nil && len(cursors) < 2*pages {
							cursors = append(cursors, *n)
						}
					}
				}
			}
		}
	}
}

// referencePage encodes the page req selects through the reference path.
func referencePage(t *testing.T, svc *ais.Service, g ob.AccessGrant, req ais.TransactionsRequest, l linker) (string, ob.TransactionPage) {
	t.Helper()
	page, _, err := svc.Transactions(context.Background(), g, req)
	if err != nil {
		t.Fatal(err)
	}
	var ends pageEnds
	for i := range page.Transactions {
		ends.add(&page.Transactions[i])
	}
	links, meta, err := l.txLinks(req.Cursor, page, req.PageSize, ends)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(envelope[obTransactionData]{
		Data: obTransactionData{Transaction: mapSlice(page.Transactions, transaction)}, Links: links, Meta: meta})
	if err != nil {
		t.Fatal(err)
	}
	return string(b), page
}

// scanPage encodes the page req selects as getTransactions does.
func scanPage(t *testing.T, svc *ais.Service, g ob.AccessGrant, req ais.TransactionsRequest, l linker) string {
	t.Helper()
	pw := newTxPageWriter()
	defer pw.release()
	page, _, err := svc.ScanTransactions(context.Background(), g, req, pw.add)
	if err != nil {
		t.Fatal(err)
	}
	if page.Transactions != nil {
		t.Errorf("ScanTransactions returned %d transactions in the page, want nil", len(page.Transactions))
	}
	links, meta, err := l.txLinks(req.Cursor, page, req.PageSize, pw.ends)
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	if err := pw.write(w, links, meta); err != nil {
		t.Fatal(err)
	}
	return w.Body.String()
}

// nextCursor returns the cursor of the Next link of an encoded page, nil
// when there is none.
func nextCursor(t *testing.T, body string) *ob.TxCursor {
	t.Helper()
	var env struct{ Links obLinks }
	if err := json.Unmarshal([]byte(body), &env); err != nil {
		t.Fatal(err)
	}
	if env.Links.Next == "" {
		return nil
	}
	u, err := url.Parse(env.Links.Next)
	if err != nil {
		t.Fatal(err)
	}
	c, err := decodeCursor(u.Query().Get("cursor"))
	if err != nil {
		t.Fatal(err)
	}
	return &c
}

// TestAppendJSONTime holds the hand-written time format to formatTime over
// times across the years it writes by hand, either side of them, and in
// other zones.
func TestAppendJSONTime(t *testing.T) {
	zone := time.FixedZone("X", -(3*3600 + 1800))
	times := []time.Time{
		time.Unix(0, 0), time.Unix(-1, 0), time.Unix(-86400, 1), time.Unix(86399, 999999999),
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 100, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2000, 2, 29, 12, 0, 0, 0, zone), time.Date(1900, 3, 1, 0, 0, 0, 0, time.UTC),
	}
	for s := int64(-62167219200 - 86400*3); s < 253402300800+86400*3; s += 86400*97 + 3607 {
		times = append(times, time.Unix(s, s%1000*1000).In(zone))
	}
	for _, tm := range times {
		want := `"` + formatTime(tm) + `"`
		if got := string(appendJSONTime(nil, tm)); got != want {
			t.Errorf("appendJSONTime(%v) = %s, want %s", tm, got, want)
		}
	}
	// With the date of the previous time remembered, as a page writes
	// them: times on the same day, the next, the one before and back, and
	// across the hand-written years' edges.
	var last lastDay
	for _, tm := range times {
		for _, d := range []time.Duration{0, time.Hour, -time.Hour, 23 * time.Hour, 0, -25 * time.Hour, time.Second} {
			at := tm.Add(d)
			want := `"` + formatTime(at) + `"`
			if got := string(appendJSONTimeDay(nil, at, &last)); got != want {
				t.Fatalf("appendJSONTimeDay(%v) after %v = %s, want %s", at, tm, got, want)
			}
		}
	}
}

// TestAppendAmountString holds the hand-written amount to
// ob.Money.AmountString for currencies of 0, 2 and 3 decimals, around every
// power of ten and at the ends of int64.
func TestAppendAmountString(t *testing.T) {
	values := []int64{0, 1, -1, 9, 10, 99, 100, 101, 999, 1000, 1001, 123456789, math.MaxInt64, math.MinInt64, math.MinInt64 + 1}
	for p := int64(1); p <= math.MaxInt64/10; p *= 10 {
		values = append(values, p-1, p, p+1, -p, -(p - 1))
	}
	var ex exponents
	for _, ccy := range []string{"GBP", "JPY", "BHD", "XYZ", "GBP"} {
		for _, v := range values {
			m := ob.Money{Minor: v, Currency: ccy}
			want := `"` + m.AmountString() + `"`
			if got := string(appendAmountString(nil, m, &ex)); got != want {
				t.Fatalf("appendAmountString(%d %s) = %s, want %s", v, ccy, got, want)
			}
		}
	}
}
