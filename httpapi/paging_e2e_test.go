package httpapi_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/obank/obank/ob"
	"github.com/obank/obank/obtest"
)

// walk follows Links.Next from the first response and returns every
// transaction id in order and the number of pages.
func walk(t *testing.T, e *env, tok string, first response) ([]string, int) {
	t.Helper()
	var ids []string
	r := first
	for pages := 1; ; pages++ {
		for _, row := range r.list("Transaction") {
			ids = append(ids, row["TransactionId"].(string))
		}
		next, ok := r.links()["Next"].(string)
		if !ok {
			return ids, pages
		}
		if pages > 100 {
			t.Fatal("Next links never end")
		}
		r = e.get(next, tok).wantStatus(t, 200)
	}
}

func TestTransactionPagination(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		e := newEnv(t, be)
		tok := e.token(grantOpts{})
		path := aisBase + "/accounts/" + pagedAcc + "/transactions"
		wantPages := totalPages(pagedTxCount)

		first := e.get(path, tok).wantStatus(t, 200)
		if got := first.meta()["TotalPages"]; got != float64(wantPages) {
			t.Errorf("TotalPages = %v, want %d", got, wantPages)
		}
		if has(first.links(), "Prev") {
			t.Errorf("first page has Prev")
		}
		ids, pages := walk(t, e, tok, first)
		if pages != wantPages || len(ids) != pagedTxCount {
			t.Errorf("walked %d pages, %d rows; want %d pages, %d rows", pages, len(ids), wantPages, pagedTxCount)
		}
		seen := map[string]bool{}
		for _, id := range ids {
			if seen[id] {
				t.Errorf("duplicate %s", id)
			}
			seen[id] = true
		}

		t.Run("Last and Prev", func(t *testing.T) {
			last := e.get(first.links()["Last"].(string), tok).wantStatus(t, 200)
			if has(last.links(), "Next") {
				t.Errorf("last page has Next")
			}
			rows := last.list("Transaction")
			if want := pagedTxCount - (wantPages-1)*testPageSize; len(rows) != want {
				t.Errorf("last page has %d rows, want %d", len(rows), want)
			}
			if got := rows[len(rows)-1]["TransactionId"]; got != ids[len(ids)-1] {
				t.Errorf("last row = %v, want %s", got, ids[len(ids)-1])
			}
			prev := e.get(last.links()["Prev"].(string), tok).wantStatus(t, 200)
			prevRows := prev.list("Transaction")
			lo := (wantPages - 2) * testPageSize
			if len(prevRows) != testPageSize || prevRows[0]["TransactionId"] != ids[lo] {
				t.Errorf("Prev of last: %d rows starting %v, want %d starting %s", len(prevRows), prevRows[0]["TransactionId"], testPageSize, ids[lo])
			}
			back := e.get(prev.links()["First"].(string), tok).wantStatus(t, 200)
			if back.list("Transaction")[0]["TransactionId"] != ids[0] {
				t.Errorf("First link does not lead to the first page")
			}
		})

		t.Run("page numbers", func(t *testing.T) {
			for p := 1; p <= wantPages; p++ {
				r := e.get(fmt.Sprintf("%s?page=%d", path, p), tok).wantStatus(t, 200)
				rows := r.list("Transaction")
				if rows[0]["TransactionId"] != ids[(p-1)*testPageSize] {
					t.Errorf("page %d starts with %v, want %s", p, rows[0]["TransactionId"], ids[(p-1)*testPageSize])
				}
				if has(r.links(), "Prev") != (p > 1) || has(r.links(), "Next") != (p < wantPages) {
					t.Errorf("page %d links = %v", p, r.links())
				}
			}
			for _, bad := range []string{"0", "abc", "999", "-3", ""} {
				e.get(path+"?page="+bad, tok).wantError(t, 400, ob.CodeFieldInvalid, "page")
			}
			e.get(path+"?page=1&cursor="+url.QueryEscape(cursorOf(t, first.links()["Next"].(string))), tok).
				wantError(t, 400, ob.CodeFieldInvalid, "page")
		})

		t.Run("bad cursors", func(t *testing.T) {
			good := cursorOf(t, first.links()["Next"].(string))
			raw, _ := base64.RawURLEncoding.DecodeString(good)
			for name, c := range map[string]string{
				"not base64":     "!!!",
				"padded":         good + "==",
				"empty":          "",
				"truncated":      base64.RawURLEncoding.EncodeToString(raw[:len(raw)-2]),
				"trailing bytes": base64.RawURLEncoding.EncodeToString(append(raw, 0)),
				"bad version":    base64.RawURLEncoding.EncodeToString(append([]byte{9}, raw[1:]...)),
				"bad mode":       base64.RawURLEncoding.EncodeToString(append([]byte{raw[0], 77}, raw[2:]...)),
			} {
				t.Run(name, func(t *testing.T) {
					e.get(path+"?cursor="+url.QueryEscape(c), tok).wantError(t, 400, ob.CodeFieldInvalid, "cursor")
				})
			}
		})

		t.Run("stable under inserts", func(t *testing.T) {
			first := e.get(path, tok).wantStatus(t, 200)
			// A new, newest transaction lands between page fetches.
			newTx := pagedTransactions(pagedAcc, 1, now.Add(2*time.Hour))
			newTx[0].ID = "tx-9-new"
			if err := e.store.Import(context.Background(), &ob.BankData{Transactions: newTx}); err != nil {
				t.Fatalf("Import: %v", err)
			}
			got, _ := walk(t, e, tok, first)
			if len(got) != pagedTxCount {
				t.Errorf("walk after insert: %d rows, want %d", len(got), pagedTxCount)
			}
			for i := range got {
				if got[i] != ids[i] {
					t.Fatalf("row %d = %s, want %s: the listing shifted", i, got[i], ids[i])
				}
			}
			// A fresh listing sees it.
			fresh := e.get(path, tok).wantStatus(t, 200)
			if fresh.list("Transaction")[0]["TransactionId"] != "tx-9-new" {
				t.Errorf("fresh listing does not start with the new transaction")
			}
		})
	})
}

// cursorOf extracts the cursor parameter of a link.
func cursorOf(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	c := u.Query().Get("cursor")
	if c == "" {
		t.Fatalf("link %s has no cursor", link)
	}
	return c
}

func TestFiltersPreservedAcrossPages(t *testing.T) {
	e := newEnv(t, backends()[0])
	tok := e.token(grantOpts{})
	// The paged account's rows span ~41 hours before now-1h; keep the newest 30.
	from := now.Add(-23 * time.Hour).Format("2006-01-02T15:04:05")
	path := aisBase + "/accounts/" + pagedAcc + "/transactions?fromBookingDateTime=" + from
	first := e.get(path, tok).wantStatus(t, 200)
	ids, pages := walk(t, e, tok, first)
	all, _ := walk(t, e, tok, e.get(aisBase+"/accounts/"+pagedAcc+"/transactions", tok))
	if len(ids) >= len(all) || len(ids) == 0 {
		t.Fatalf("filtered walk returned %d of %d rows", len(ids), len(all))
	}
	if pages != totalPages(len(ids)) {
		t.Errorf("pages = %d, want %d", pages, totalPages(len(ids)))
	}
	for _, k := range []string{"First", "Next", "Last"} {
		if l, _ := first.links()[k].(string); !strings.Contains(l, "fromBookingDateTime=") {
			t.Errorf("%s link lost the filter: %s", k, l)
		}
	}
}

func TestDateFilters(t *testing.T) {
	e := newEnv(t, backends()[0])
	tok := e.token(grantOpts{})
	path := aisBase + "/accounts/" + obtest.Acc1 + "/transactions"
	// Acc1: tx-002 at -72h (Jan 12 09:30), tx-001/tx-004 at -48h (Jan 13
	// 09:30), tx-003 at -1h (Jan 15 08:30), fixture time 2026-01-15 09:30.
	tests := []struct {
		name, query string
		want        []string
	}{
		{"date only", "fromBookingDateTime=2026-01-13", []string{"tx-003", "tx-004", "tx-001"}},
		{"date-time", "fromBookingDateTime=2026-01-13T09:30:01&toBookingDateTime=2026-01-15T09:00:00", []string{"tx-003"}},
		{"fractional seconds", "fromBookingDateTime=2026-01-13T09:30:00.123456", []string{"tx-003", "tx-004", "tx-001"}},
		{"timezone ignored", "toBookingDateTime=" + url.QueryEscape("2026-01-12T09:30:00.5+05:00"), []string{"tx-002"}},
		{"Z ignored", "toBookingDateTime=2026-01-12T09:30:00.5Z", []string{"tx-002"}},
		{"unencoded plus", "toBookingDateTime=2026-01-12T09:30:00.5+01:00", []string{"tx-002"}},
		{"to only", "toBookingDateTime=2026-01-13", []string{"tx-002"}},
		{"out of range", "fromBookingDateTime=2030-01-01", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows := e.get(path+"?"+tt.query, tok).wantStatus(t, 200).list("Transaction")
			got := []string{}
			for _, r := range rows {
				got = append(got, r["TransactionId"].(string))
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("%s: got %v, want %v", tt.query, got, tt.want)
			}
		})
	}
	bad := []struct{ name, query, code, path string }{
		{"garbage", "fromBookingDateTime=yesterday", ob.CodeFieldInvalidDate, "fromBookingDateTime"},
		{"bad month", "toBookingDateTime=2026-13-01", ob.CodeFieldInvalidDate, "toBookingDateTime"},
		{"from after to", "fromBookingDateTime=2026-01-14&toBookingDateTime=2026-01-13", ob.CodeFieldInvalid, "fromBookingDateTime"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			e.get(path+"?"+tt.query, tok).wantError(t, 400, tt.code, tt.path)
		})
	}
	t.Run("statement dates", func(t *testing.T) {
		sp := aisBase + "/accounts/" + obtest.Acc1 + "/statements"
		rows := e.get(sp+"?fromStatementDateTime=2026-02-01", tok).wantStatus(t, 200).list("Statement")
		if len(rows) != 1 || rows[0]["StatementId"] != "stmt-001-02" {
			t.Errorf("statements from February = %v", rows)
		}
		e.get(sp+"?toStatementDateTime=nope", tok).wantError(t, 400, ob.CodeFieldInvalidDate, "toStatementDateTime")
	})
	t.Run("intersected with the consent window", func(t *testing.T) {
		from := time.Date(2026, 1, 13, 0, 0, 0, 0, time.UTC)
		to := time.Date(2026, 1, 14, 0, 0, 0, 0, time.UTC)
		win := e.token(grantOpts{from: &from, to: &to})
		r := e.get(path+"?fromBookingDateTime=2026-01-01", win).wantStatus(t, 200)
		var got []string
		for _, row := range r.list("Transaction") {
			got = append(got, row["TransactionId"].(string))
		}
		if strings.Join(got, ",") != "tx-004,tx-001" {
			t.Errorf("window 13th..14th: got %v", got)
		}
		if r.meta()["FirstAvailableDateTime"] == nil || r.meta()["LastAvailableDateTime"] == nil {
			t.Errorf("Meta lacks the available window: %v", r.meta())
		}
	})
}
