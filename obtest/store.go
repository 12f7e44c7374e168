// Package obtest holds what every ob.Store backend is tested with: the
// contract suite RunStoreTests, the deterministic Fixture other packages'
// tests reuse, and shared benchmarks.
//
// A backend's test calls
//
//	obtest.RunStoreTests(t, func(t *testing.T) ob.Store { return openFresh(t) })
//
// where open returns a new, empty, migrated store and arranges its cleanup.
package obtest

import (
	"cmp"
	"context"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/obank/obank/ob"
)

// RunStoreTests runs the store contract suite. open must return a fresh,
// empty store for each call; the suite calls it once per subtest.
func RunStoreTests(t *testing.T, open func(t *testing.T) ob.Store) {
	t.Run("Ping", func(t *testing.T) {
		if err := open(t).Ping(context.Background()); err != nil {
			t.Fatalf("Ping() = %v, want nil", err)
		}
	})
	t.Run("Empty", func(t *testing.T) { testEmpty(t, open(t)) })
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, open(t)) })
	t.Run("TimePrecision", func(t *testing.T) { testTimePrecision(t, open(t)) })
	t.Run("NotFound", func(t *testing.T) { testNotFound(t, open(t)) })
	t.Run("UnknownAccounts", func(t *testing.T) { testUnknownAccounts(t, open(t)) })
	t.Run("ImportAtomic", func(t *testing.T) { testImportAtomic(t, open) })
	t.Run("Grants", func(t *testing.T) { testGrants(t, open(t)) })
	t.Run("RecordAPICalls", func(t *testing.T) { testRecordAPICalls(t, open(t)) })
	t.Run("Statements", func(t *testing.T) { testStatements(t, open(t)) })
	t.Run("Transactions", func(t *testing.T) { testTransactions(t, open) })
}

// MustImport imports data into s or fails the test.
func MustImport(tb testing.TB, s ob.Store, data *ob.BankData) {
	tb.Helper()
	if err := s.Import(context.Background(), data); err != nil {
		tb.Fatalf("Import: %v", err)
	}
}

// diff fails the test with a (-want +got) diff when want and got differ.
func diff(t *testing.T, what string, want, got any) {
	t.Helper()
	if d := gocmp.Diff(want, got); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", what, d)
	}
}

// sorted returns a sorted copy of s.
func sorted[T any](s []T, less func(a, b T) int) []T {
	s = slices.Clone(s)
	slices.SortStableFunc(s, less)
	return s
}

func byAccountAndID[T any](key func(T) (string, string)) func(a, b T) int {
	return func(a, b T) int {
		aa, ai := key(a)
		ba, bi := key(b)
		return cmp.Or(cmp.Compare(aa, ba), cmp.Compare(ai, bi))
	}
}

// checkUTC fails the test for every time.Time reachable from v that is not
// in UTC: stores hand back UTC only.
func checkUTC(t *testing.T, what string, v any) {
	t.Helper()
	var walk func(path string, rv reflect.Value)
	walk = func(path string, rv reflect.Value) {
		switch rv.Kind() {
		case reflect.Pointer, reflect.Interface:
			if !rv.IsNil() {
				walk(path, rv.Elem())
			}
		case reflect.Slice, reflect.Array:
			for i := range rv.Len() {
				walk(fmt.Sprintf("%s[%d]", path, i), rv.Index(i))
			}
		case reflect.Struct:
			if tm, ok := rv.Interface().(time.Time); ok {
				if tm.Location() != time.UTC {
					t.Errorf("%s%s is in %v, want UTC", what, path, tm.Location())
				}
				return
			}
			for i := range rv.NumField() {
				if rv.Type().Field(i).IsExported() {
					walk(path+"."+rv.Type().Field(i).Name, rv.Field(i))
				}
			}
		}
	}
	walk("", reflect.ValueOf(v))
}

func testEmpty(t *testing.T, s ob.Store) {
	ctx := context.Background()
	if empty, err := s.Empty(ctx); err != nil || !empty {
		t.Fatalf("new store: Empty() = %v, %v; want true, nil", empty, err)
	}
	MustImport(t, s, Fixture())
	if empty, err := s.Empty(ctx); err != nil || empty {
		t.Fatalf("after Import: Empty() = %v, %v; want false, nil", empty, err)
	}
}

func testRoundTrip(t *testing.T, s ob.Store) {
	ctx := context.Background()
	MustImport(t, s, Fixture())
	want := Fixture()
	all := []string{Acc1, Acc2, Acc3}

	t.Run("Customer", func(t *testing.T) {
		for _, c := range want.Customers {
			got, err := s.Customer(ctx, c.ID)
			if err != nil {
				t.Fatalf("Customer(%q): %v", c.ID, err)
			}
			diff(t, "Customer("+c.ID+")", c, got)
			checkUTC(t, "Customer", got)
		}
		got, err := s.CustomerByUsername(ctx, "alice")
		if err != nil {
			t.Fatalf("CustomerByUsername(alice): %v", err)
		}
		diff(t, "CustomerByUsername(alice)", want.Customers[0], got)
	})
	t.Run("Customers", func(t *testing.T) {
		sortedCustomers := sorted(want.Customers, func(a, b ob.Customer) int { return cmp.Compare(a.ID, b.ID) })
		for _, tc := range []struct {
			limit int
			want  []ob.Customer
		}{
			{0, sortedCustomers},
			{1, sortedCustomers[:1]},
			{10, sortedCustomers},
		} {
			got, err := s.Customers(ctx, tc.limit)
			if err != nil {
				t.Fatalf("Customers(%d): %v", tc.limit, err)
			}
			diff(t, fmt.Sprintf("Customers(%d)", tc.limit), tc.want, got)
		}
	})
	t.Run("Account", func(t *testing.T) {
		for _, a := range want.Accounts {
			got, err := s.Account(ctx, a.ID)
			if err != nil {
				t.Fatalf("Account(%q): %v", a.ID, err)
			}
			diff(t, "Account("+a.ID+")", a, got)
			checkUTC(t, "Account", got)
		}
	})
	t.Run("Accounts", func(t *testing.T) {
		acc := func(id string) ob.Account {
			i := slices.IndexFunc(want.Accounts, func(a ob.Account) bool { return a.ID == id })
			return want.Accounts[i]
		}
		for _, tc := range []struct {
			name string
			got  func() ([]ob.Account, error)
			want []ob.Account
		}{
			{"Accounts(acc3,nope,acc1)", func() ([]ob.Account, error) { return s.Accounts(ctx, []string{Acc3, "nope", Acc1}) },
				[]ob.Account{acc(Acc1), acc(Acc3)}},
			{"Accounts(nil)", func() ([]ob.Account, error) { return s.Accounts(ctx, nil) }, nil},
			{"AccountsByCustomer(alice)", func() ([]ob.Account, error) { return s.AccountsByCustomer(ctx, Alice) },
				[]ob.Account{acc(Acc1), acc(Acc2)}},
			{"AccountsByCustomer(bob)", func() ([]ob.Account, error) { return s.AccountsByCustomer(ctx, Bob) },
				[]ob.Account{acc(Acc2), acc(Acc3)}},
			{"AccountsByCustomer(nobody)", func() ([]ob.Account, error) { return s.AccountsByCustomer(ctx, "nobody") }, nil},
		} {
			got, err := tc.got()
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if len(got) == 0 {
				got = nil
			}
			diff(t, tc.name, tc.want, got)
		}
	})
	t.Run("AccountHolders", func(t *testing.T) {
		// Principal first, then by customer ID; the fixture lists Bob first.
		for _, tc := range []struct {
			account string
			want    []ob.AccountHolder
		}{
			{Acc1, want.AccountHolders[:1]},
			{Acc2, []ob.AccountHolder{want.AccountHolders[2], want.AccountHolders[1]}},
			{Acc3, want.AccountHolders[3:]},
		} {
			got, err := s.AccountHolders(ctx, tc.account)
			if err != nil {
				t.Fatalf("AccountHolders(%q): %v", tc.account, err)
			}
			diff(t, "AccountHolders("+tc.account+")", tc.want, got)
		}
	})
	t.Run("PerAccount", func(t *testing.T) {
		check := func(name string, want, got any, err error) {
			t.Helper()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			diff(t, name, want, got)
			checkUTC(t, name, got)
		}
		balances := sorted(want.Balances, func(a, b ob.Balance) int {
			return cmp.Or(cmp.Compare(a.AccountID, b.AccountID), cmp.Compare(a.Type, b.Type), a.DateTime.Compare(b.DateTime))
		})
		got, err := s.Balances(ctx, all)
		check("Balances", balances, got, err)
		gotB, err := s.Beneficiaries(ctx, all)
		check("Beneficiaries", sorted(want.Beneficiaries, byAccountAndID(func(b ob.Beneficiary) (string, string) { return b.AccountID, b.ID })), gotB, err)
		gotD, err := s.DirectDebits(ctx, all)
		check("DirectDebits", sorted(want.DirectDebits, byAccountAndID(func(d ob.DirectDebit) (string, string) { return d.AccountID, d.ID })), gotD, err)
		gotS, err := s.StandingOrders(ctx, all)
		check("StandingOrders", sorted(want.StandingOrders, byAccountAndID(func(o ob.StandingOrder) (string, string) { return o.AccountID, o.ID })), gotS, err)
		gotP, err := s.ScheduledPayments(ctx, all)
		check("ScheduledPayments", sorted(want.ScheduledPayments, byAccountAndID(func(p ob.ScheduledPayment) (string, string) { return p.AccountID, p.ID })), gotP, err)
		gotPr, err := s.Products(ctx, all)
		check("Products", sorted(want.Products, byAccountAndID(func(p ob.Product) (string, string) { return p.AccountID, p.ID })), gotPr, err)
		gotO, err := s.Offers(ctx, all)
		check("Offers", sorted(want.Offers, byAccountAndID(func(o ob.Offer) (string, string) { return o.AccountID, o.ID })), gotO, err)

		// One account selects only its rows.
		gotB, err = s.Beneficiaries(ctx, []string{Acc2})
		check("Beneficiaries(acc2)", want.Beneficiaries[1:], gotB, err)
		got, err = s.Balances(ctx, []string{Acc3, "nope"})
		check("Balances(acc3,nope)", want.Balances[3:], got, err)
	})
	t.Run("Statements", func(t *testing.T) {
		got, err := s.Statements(ctx, ob.StatementQuery{AccountIDs: all})
		if err != nil {
			t.Fatalf("Statements: %v", err)
		}
		// Ordered by (AccountID, StartDateTime, ID): January before February.
		diff(t, "Statements", []ob.Statement{want.Statements[1], want.Statements[0], want.Statements[2]}, got)
		checkUTC(t, "Statements", got)
		one, err := s.Statement(ctx, Acc1, "stmt-001-01")
		if err != nil {
			t.Fatalf("Statement: %v", err)
		}
		diff(t, "Statement(acc1, stmt-001-01)", want.Statements[1], one)
	})
	t.Run("Transactions", func(t *testing.T) {
		page, err := s.Transactions(ctx, ob.TransactionQuery{AccountIDs: all, Credits: true, Debits: true, PageSize: 100})
		if err != nil {
			t.Fatalf("Transactions: %v", err)
		}
		wantTxs := sorted(want.Transactions, compareNewestFirst)
		diff(t, "Transactions", wantTxs, page.Transactions)
		checkUTC(t, "Transactions", page)
		if page.Total != len(wantTxs) {
			t.Errorf("Total = %d, want %d", page.Total, len(wantTxs))
		}
		diff(t, "FirstAvailable", ptr(wantTxs[len(wantTxs)-1].BookingDateTime), page.FirstAvailable)
		diff(t, "LastAvailable", ptr(wantTxs[0].BookingDateTime), page.LastAvailable)
	})
}

// compareNewestFirst is the transaction listing order: BookingDateTime
// descending, then ID descending.
func compareNewestFirst(a, b ob.Transaction) int {
	return cmp.Or(b.BookingDateTime.Compare(a.BookingDateTime), cmp.Compare(b.ID, a.ID))
}

func testTimePrecision(t *testing.T, s ob.Store) {
	ctx := context.Background()
	d := Fixture()
	paris := time.FixedZone("CET", 3600)
	// Nanoseconds are cut to microseconds and the zone becomes UTC; the
	// instant stays the same.
	d.Customers[0].CreatedAt = time.Date(2026, 3, 1, 10, 0, 0, 123456789, paris)
	d.Customers = d.Customers[:1]
	d.Accounts, d.AccountHolders, d.Balances, d.Transactions = nil, nil, nil, nil
	d.Beneficiaries, d.DirectDebits, d.StandingOrders, d.ScheduledPayments = nil, nil, nil, nil
	d.Statements, d.Products, d.Offers = nil, nil, nil
	MustImport(t, s, d)
	got, err := s.Customer(ctx, Alice)
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 3, 1, 9, 0, 0, 123456000, time.UTC)
	if !got.CreatedAt.Equal(want) || got.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt = %v, want %v", got.CreatedAt, want)
	}
}

func testNotFound(t *testing.T, s ob.Store) {
	ctx := context.Background()
	MustImport(t, s, Fixture())
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"Customer", func() error { _, err := s.Customer(ctx, "nobody"); return err }},
		{"CustomerByUsername", func() error { _, err := s.CustomerByUsername(ctx, "nobody"); return err }},
		{"CustomerByUsername(empty)", func() error { _, err := s.CustomerByUsername(ctx, ""); return err }},
		{"Account", func() error { _, err := s.Account(ctx, "nope"); return err }},
		{"Statement(unknown id)", func() error { _, err := s.Statement(ctx, Acc1, "nope"); return err }},
		{"Statement(other account)", func() error { _, err := s.Statement(ctx, Acc2, "stmt-001-01"); return err }},
		{"AccessGrant", func() error { _, err := s.AccessGrant(ctx, "nope"); return err }},
		{"TokenGrant", func() error { _, _, err := s.TokenGrant(ctx, ob.HashToken("nope")); return err }},
		{"RevokeGrant", func() error { return s.RevokeGrant(ctx, "nope", FixtureTime()) }},
	} {
		if err := tc.call(); !ob.IsNotFound(err) {
			t.Errorf("%s: err = %v, want not found", tc.name, err)
		}
	}
}

func testUnknownAccounts(t *testing.T, s ob.Store) {
	ctx := context.Background()
	MustImport(t, s, Fixture())
	for _, ids := range [][]string{nil, {}, {"nope"}} {
		name := fmt.Sprintf("%q", ids)
		counts := map[string]func() (int, error){
			"AccountHolders": func() (int, error) { r, err := s.AccountHolders(ctx, "nope"); return len(r), err },
			"Balances":       func() (int, error) { r, err := s.Balances(ctx, ids); return len(r), err },
			"Beneficiaries":  func() (int, error) { r, err := s.Beneficiaries(ctx, ids); return len(r), err },
			"DirectDebits":   func() (int, error) { r, err := s.DirectDebits(ctx, ids); return len(r), err },
			"StandingOrders": func() (int, error) { r, err := s.StandingOrders(ctx, ids); return len(r), err },
			"ScheduledPayments": func() (int, error) {
				r, err := s.ScheduledPayments(ctx, ids)
				return len(r), err
			},
			"Products": func() (int, error) { r, err := s.Products(ctx, ids); return len(r), err },
			"Offers":   func() (int, error) { r, err := s.Offers(ctx, ids); return len(r), err },
			"Statements": func() (int, error) {
				r, err := s.Statements(ctx, ob.StatementQuery{AccountIDs: ids})
				return len(r), err
			},
			"Accounts": func() (int, error) { r, err := s.Accounts(ctx, ids); return len(r), err },
		}
		for what, f := range counts {
			if n, err := f(); err != nil || n != 0 {
				t.Errorf("%s(%s) = %d rows, %v; want 0, nil", what, name, n, err)
			}
		}
	}
}

func testImportAtomic(t *testing.T, open func(t *testing.T) ob.Store) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		preload bool // the fixture is imported first
		batch   func() *ob.BankData
	}{
		{"duplicate transaction in batch", false, func() *ob.BankData {
			d := Fixture()
			dup := d.Transactions[0]
			dup.AccountID = Acc3
			d.Transactions = append(d.Transactions, dup)
			return d
		}},
		{"duplicate customer in batch", false, func() *ob.BankData {
			d := Fixture()
			d.Customers = append(d.Customers, d.Customers[0])
			return d
		}},
		{"duplicate of stored transaction", true, func() *ob.BankData {
			d := &ob.BankData{
				Customers: []ob.Customer{{ID: "cust-new", Username: "carol", CreatedAt: FixtureTime()}},
				Accounts: []ob.Account{{ID: "acc-new", CustomerID: "cust-new", Currency: "GBP",
					StatusUpdateDateTime: FixtureTime(), OpeningDate: FixtureTime(), CreatedAt: FixtureTime()}},
				Transactions: []ob.Transaction{
					{ID: "tx-new", AccountID: "acc-new", BookingDateTime: FixtureTime(), Amount: gbp(1)},
					Fixture().Transactions[0],
				},
			}
			return d
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			if tc.preload {
				MustImport(t, s, Fixture())
			}
			err := s.Import(ctx, tc.batch())
			if code := ob.ErrorCode(err); code != ob.CodeConflict {
				t.Fatalf("Import: err = %v (code %q), want code %q", err, code, ob.CodeConflict)
			}
			customers, err := s.Customers(ctx, 0)
			if err != nil {
				t.Fatal(err)
			}
			wantCustomers := 0
			if tc.preload {
				wantCustomers = len(Fixture().Customers)
			}
			if len(customers) != wantCustomers {
				t.Errorf("after a failed Import: %d customers, want %d", len(customers), wantCustomers)
			}
			page, err := s.Transactions(ctx, ob.TransactionQuery{AccountIDs: []string{Acc1, Acc3, "acc-new"},
				Credits: true, Debits: true, PageSize: 100})
			if err != nil {
				t.Fatal(err)
			}
			wantTotal := 0
			if tc.preload {
				wantTotal = 5 // the fixture's transactions of Acc1 and Acc3
			}
			if page.Total != wantTotal {
				t.Errorf("after a failed Import: %d transactions, want %d", page.Total, wantTotal)
			}
			if _, err := s.Account(ctx, "acc-new"); !ob.IsNotFound(err) {
				t.Errorf("Account(acc-new) after a failed Import: err = %v, want not found", err)
			}
		})
	}
}

func testGrants(t *testing.T, s ob.Store) {
	ctx := context.Background()
	MustImport(t, s, Fixture())
	base := FixtureTime()
	full := ob.AccessGrant{
		ID: "grant-1", TPPID: "tpp-1", CustomerID: Alice,
		Permissions:     ob.Permissions{ob.ReadAccountsDetail, ob.ReadBalances, ob.ReadTransactionsCredits, ob.ReadTransactionsDetail},
		AccountIDs:      []string{Acc1, Acc2},
		TransactionFrom: ptr(base.Add(-90 * 24 * time.Hour)), TransactionTo: ptr(base.Add(time.Hour)),
		ExpiresAt: ptr(base.Add(90 * 24 * time.Hour)), CreatedAt: base,
	}
	minimal := ob.AccessGrant{ID: "grant-2", TPPID: "tpp-2", CustomerID: Bob,
		Permissions: ob.Permissions{ob.ReadAccountsBasic}, CreatedAt: base.Add(time.Second)}
	for _, g := range []ob.AccessGrant{full, minimal} {
		if err := s.CreateAccessGrant(ctx, g); err != nil {
			t.Fatalf("CreateAccessGrant(%s): %v", g.ID, err)
		}
		got, err := s.AccessGrant(ctx, g.ID)
		if err != nil {
			t.Fatalf("AccessGrant(%s): %v", g.ID, err)
		}
		diff(t, "AccessGrant("+g.ID+")", g, got)
		checkUTC(t, "AccessGrant", got)
	}
	if err := s.CreateAccessGrant(ctx, full); ob.ErrorCode(err) != ob.CodeConflict {
		t.Errorf("CreateAccessGrant(duplicate) = %v, want code %s", err, ob.CodeConflict)
	}

	token := func(name, grantID string, scopes ...string) ob.AccessToken {
		return ob.AccessToken{Hash: ob.HashToken(name), GrantID: grantID, ClientID: "tpp-1", Scopes: scopes,
			CertThumbprint: "x5t-" + name, CreatedAt: base, ExpiresAt: base.Add(time.Hour)}
	}
	bound1 := token("bound-1", full.ID, "accounts")
	bound1.FamilyID = "family-1"
	bound2 := token("bound-2", full.ID, "accounts", "openid")
	other := token("other", minimal.ID, "accounts")
	client := token("client", "", "payments")
	client.CertThumbprint = ""
	revoked := token("revoked", "")
	revoked.RevokedAt = ptr(base.Add(time.Minute))
	for _, tok := range []ob.AccessToken{bound1, bound2, other, client, revoked} {
		if err := s.CreateAccessToken(ctx, tok); err != nil {
			t.Fatalf("CreateAccessToken: %v", err)
		}
	}
	if err := s.CreateAccessToken(ctx, bound1); ob.ErrorCode(err) != ob.CodeConflict {
		t.Errorf("CreateAccessToken(duplicate) = %v, want code %s", err, ob.CodeConflict)
	}

	for _, tc := range []struct {
		name  string
		token ob.AccessToken
		grant *ob.AccessGrant
	}{
		{"bound", bound1, &full},
		{"bound with two scopes", bound2, &full},
		{"other grant", other, &minimal},
		{"client credentials", client, nil},
		{"revoked, no scopes", revoked, nil},
	} {
		gotToken, gotGrant, err := s.TokenGrant(ctx, tc.token.Hash)
		if err != nil {
			t.Fatalf("TokenGrant(%s): %v", tc.name, err)
		}
		diff(t, "TokenGrant("+tc.name+") token", tc.token, gotToken)
		diff(t, "TokenGrant("+tc.name+") grant", tc.grant, gotGrant)
		checkUTC(t, "TokenGrant", gotToken)
	}

	// Revoking marks the grant and its tokens, not other grants' tokens.
	revokedAt := base.Add(2 * time.Hour)
	if err := s.RevokeGrant(ctx, full.ID, revokedAt); err != nil {
		t.Fatalf("RevokeGrant: %v", err)
	}
	// A second revocation keeps the first time.
	if err := s.RevokeGrant(ctx, full.ID, revokedAt.Add(time.Hour)); err != nil {
		t.Fatalf("RevokeGrant again: %v", err)
	}
	wantGrant := full
	wantGrant.RevokedAt = &revokedAt
	got, err := s.AccessGrant(ctx, full.ID)
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "revoked grant", wantGrant, got)
	for _, tc := range []struct {
		token       ob.AccessToken
		wantRevoked *time.Time
	}{
		{bound1, &revokedAt},
		{bound2, &revokedAt},
		{other, nil},
		{client, nil},
		{revoked, revoked.RevokedAt},
	} {
		gotToken, gotGrant, err := s.TokenGrant(ctx, tc.token.Hash)
		if err != nil {
			t.Fatal(err)
		}
		diff(t, "RevokedAt of token "+tc.token.CertThumbprint, tc.wantRevoked, gotToken.RevokedAt)
		if tc.token.GrantID == full.ID {
			diff(t, "grant through token", &wantGrant, gotGrant)
		}
	}
	if got, err := s.AccessGrant(ctx, minimal.ID); err != nil || got.RevokedAt != nil {
		t.Errorf("other grant after RevokeGrant: RevokedAt = %v, err = %v; want nil, nil", got.RevokedAt, err)
	}
}

func testRecordAPICalls(t *testing.T, s ob.Store) {
	ctx := context.Background()
	call := func(i int) ob.APICall {
		return ob.APICall{InteractionID: fmt.Sprintf("ia-%d", i), ClientID: "tpp-1", GrantID: "grant-1",
			Method: "GET", Route: "GET /open-banking/v3.1/aisp/accounts", Status: 200, LatencyMicros: int64(1000 + i),
			FAPIAuthDate: "Sun, 10 Sep 2017 19:43:31 UTC", CustomerIPAddress: "203.0.113.7",
			CustomerUserAgent: "obank-test", At: FixtureTime().Add(time.Duration(i) * time.Millisecond)}
	}
	for _, n := range []int{0, 1, 3, 1234} {
		calls := make([]ob.APICall, n)
		for i := range calls {
			calls[i] = call(i)
		}
		// Interaction ids repeat across batches: calls are a log, not keyed.
		if err := s.RecordAPICalls(ctx, calls); err != nil {
			t.Errorf("RecordAPICalls(%d calls): %v", n, err)
		}
	}
}

func testStatements(t *testing.T, s ob.Store) {
	ctx := context.Background()
	MustImport(t, s, Fixture())
	jan := time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
	janEnd := time.Date(2026, time.February, 1, 0, 0, 0, 0, time.UTC).Add(-time.Microsecond)
	feb := time.Date(2026, time.February, 1, 0, 0, 0, 0, time.UTC)
	febEnd := time.Date(2026, time.March, 1, 0, 0, 0, 0, time.UTC).Add(-time.Microsecond)
	for _, tc := range []struct {
		name     string
		accounts []string
		from, to *time.Time
		want     []string
	}{
		{"no bounds", []string{Acc1}, nil, nil, []string{"stmt-001-01", "stmt-001-02"}},
		{"from = start, inclusive", []string{Acc1}, &jan, nil, []string{"stmt-001-01", "stmt-001-02"}},
		{"from after Jan start", []string{Acc1}, ptr(jan.Add(time.Microsecond)), nil, []string{"stmt-001-02"}},
		{"to = Jan end, inclusive", []string{Acc1}, nil, &janEnd, []string{"stmt-001-01"}},
		{"to before Jan end", []string{Acc1}, nil, ptr(janEnd.Add(-time.Microsecond)), nil},
		{"mid-Jan to Mar", []string{Acc1}, ptr(jan.AddDate(0, 0, 14)), ptr(febEnd.Add(time.Hour)), []string{"stmt-001-02"}},
		{"exactly Feb", []string{Acc1}, &feb, &febEnd, []string{"stmt-001-02"}},
		{"overlapping but not inside", []string{Acc1}, ptr(jan.AddDate(0, 0, 14)), ptr(feb.AddDate(0, 0, 14)), nil},
		{"two accounts", []string{Acc2, Acc1}, nil, nil, []string{"stmt-001-01", "stmt-001-02", "stmt-002-01"}},
		{"two accounts, Jan", []string{Acc2, Acc1}, &jan, &janEnd, []string{"stmt-001-01", "stmt-002-01"}},
		{"account without statements", []string{Acc3}, nil, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Statements(ctx, ob.StatementQuery{AccountIDs: tc.accounts, From: tc.from, To: tc.to})
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, st := range got {
				ids = append(ids, st.ID)
			}
			diff(t, "statement ids", tc.want, ids)
		})
	}
}
