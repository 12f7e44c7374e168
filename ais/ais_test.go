package ais_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/obank/obank/ais"
	"github.com/obank/obank/ob"
	"github.com/obank/obank/obtest"
)

var now = obtest.FixtureTime()

func newService() (*ais.Service, *fakeStore) {
	f := &fakeStore{d: obtest.Fixture()}
	return &ais.Service{Store: f, Now: func() time.Time { return now }}, f
}

// grant returns Alice's grant over Acc1 with the given permissions.
func grant(perms ...ob.Permission) ob.AccessGrant {
	return ob.AccessGrant{
		ID: "grant-1", TPPID: "tpp-1", CustomerID: obtest.Alice,
		Permissions: perms, AccountIDs: []string{obtest.Acc1}, CreatedAt: now.Add(-time.Hour),
	}
}

func ptr[T any](v T) *T { return &v }

// call runs one resource method of the service and returns only its error.
type call func(s *ais.Service, g ob.AccessGrant, accountID string) error

var calls = map[string]call{
	"Accounts": func(s *ais.Service, g ob.AccessGrant, id string) error {
		_, _, err := s.Accounts(context.Background(), g, id)
		return err
	},
	"Balances": func(s *ais.Service, g ob.AccessGrant, id string) error {
		_, _, err := s.Balances(context.Background(), g, id)
		return err
	},
	"Transactions": func(s *ais.Service, g ob.AccessGrant, id string) error {
		_, _, err := s.Transactions(context.Background(), g, ais.TransactionsRequest{AccountID: id, PageSize: 10})
		return err
	},
	"StatementTransactions": func(s *ais.Service, g ob.AccessGrant, id string) error {
		_, _, err := s.Transactions(context.Background(), g, ais.TransactionsRequest{AccountID: id, StatementID: "stmt-001-01", PageSize: 10})
		return err
	},
	"Beneficiaries": func(s *ais.Service, g ob.AccessGrant, id string) error {
		_, _, err := s.Beneficiaries(context.Background(), g, id)
		return err
	},
	"DirectDebits": func(s *ais.Service, g ob.AccessGrant, id string) error {
		_, _, err := s.DirectDebits(context.Background(), g, id)
		return err
	},
	"StandingOrders": func(s *ais.Service, g ob.AccessGrant, id string) error {
		_, _, err := s.StandingOrders(context.Background(), g, id)
		return err
	},
	"ScheduledPayments": func(s *ais.Service, g ob.AccessGrant, id string) error {
		_, _, err := s.ScheduledPayments(context.Background(), g, id)
		return err
	},
	"Products": func(s *ais.Service, g ob.AccessGrant, id string) error {
		_, _, err := s.Products(context.Background(), g, id)
		return err
	},
	"Offers": func(s *ais.Service, g ob.AccessGrant, id string) error {
		_, _, err := s.Offers(context.Background(), g, id)
		return err
	},
	"Statements": func(s *ais.Service, g ob.AccessGrant, id string) error {
		_, _, err := s.Statements(context.Background(), g, ais.StatementsRequest{AccountID: id})
		return err
	},
	"Statement": func(s *ais.Service, g ob.AccessGrant, id string) error {
		_, _, err := s.Statement(context.Background(), g, id, "stmt-001-01")
		return err
	},
	"StatementFile": func(s *ais.Service, g ob.AccessGrant, id string) error {
		_, _, err := s.StatementFile(context.Background(), g, id, "stmt-001-01")
		return err
	},
	"AccountParty": func(s *ais.Service, g ob.AccessGrant, id string) error {
		_, _, err := s.AccountParty(context.Background(), g, id)
		return err
	},
	"AccountParties": func(s *ais.Service, g ob.AccessGrant, id string) error {
		_, _, err := s.AccountParties(context.Background(), g, id)
		return err
	},
	"PSUParty": func(s *ais.Service, g ob.AccessGrant, _ string) error {
		_, _, err := s.PSUParty(context.Background(), g)
		return err
	},
}

// TestPermissions checks, for every resource, which permission sets are
// enough and that anything less is ob.CodeForbidden.
func TestPermissions(t *testing.T) {
	txBasic := []ob.Permission{ob.ReadTransactionsBasic, ob.ReadTransactionsCredits}
	tests := []struct {
		call  string
		allow [][]ob.Permission
		deny  [][]ob.Permission
	}{
		{"Accounts", [][]ob.Permission{{ob.ReadAccountsBasic}, {ob.ReadAccountsDetail}}, [][]ob.Permission{{}, {ob.ReadBalances}}},
		{"Balances", [][]ob.Permission{{ob.ReadBalances}}, [][]ob.Permission{{ob.ReadAccountsDetail}}},
		{"Transactions", [][]ob.Permission{txBasic, {ob.ReadTransactionsDetail, ob.ReadTransactionsDebits}},
			[][]ob.Permission{{ob.ReadTransactionsBasic}, {ob.ReadTransactionsDetail}, {ob.ReadTransactionsCredits, ob.ReadTransactionsDebits}}},
		{"StatementTransactions", [][]ob.Permission{txBasic}, [][]ob.Permission{{ob.ReadStatementsDetail}}},
		{"Beneficiaries", [][]ob.Permission{{ob.ReadBeneficiariesBasic}, {ob.ReadBeneficiariesDetail}}, [][]ob.Permission{{ob.ReadAccountsDetail}}},
		{"DirectDebits", [][]ob.Permission{{ob.ReadDirectDebits}}, [][]ob.Permission{{ob.ReadStandingOrdersDetail}}},
		{"StandingOrders", [][]ob.Permission{{ob.ReadStandingOrdersBasic}, {ob.ReadStandingOrdersDetail}}, [][]ob.Permission{{ob.ReadDirectDebits}}},
		{"ScheduledPayments", [][]ob.Permission{{ob.ReadScheduledPaymentsBasic}, {ob.ReadScheduledPaymentsDetail}}, [][]ob.Permission{{ob.ReadStandingOrdersDetail}}},
		{"Products", [][]ob.Permission{{ob.ReadProducts}}, [][]ob.Permission{{ob.ReadOffers}}},
		{"Offers", [][]ob.Permission{{ob.ReadOffers}}, [][]ob.Permission{{ob.ReadProducts}}},
		{"Statements", [][]ob.Permission{{ob.ReadStatementsBasic}, {ob.ReadStatementsDetail}}, [][]ob.Permission{{ob.ReadTransactionsDetail}}},
		{"Statement", [][]ob.Permission{{ob.ReadStatementsBasic}, {ob.ReadStatementsDetail}}, [][]ob.Permission{{}}},
		{"StatementFile", [][]ob.Permission{{ob.ReadStatementsDetail}}, [][]ob.Permission{{ob.ReadStatementsBasic}}},
		{"AccountParty", [][]ob.Permission{{ob.ReadParty}}, [][]ob.Permission{{ob.ReadPartyPSU}}},
		{"AccountParties", [][]ob.Permission{{ob.ReadParty}}, [][]ob.Permission{{ob.ReadPartyPSU}}},
		{"PSUParty", [][]ob.Permission{{ob.ReadPartyPSU}}, [][]ob.Permission{{ob.ReadParty}}},
	}
	for _, tt := range tests {
		t.Run(tt.call, func(t *testing.T) {
			c := calls[tt.call]
			for _, perms := range tt.allow {
				s, _ := newService()
				if err := c(s, grant(perms...), obtest.Acc1); err != nil {
					t.Errorf("%s with %v: %v, want success", tt.call, perms, err)
				}
			}
			for _, perms := range tt.deny {
				s, _ := newService()
				err := c(s, grant(perms...), obtest.Acc1)
				if got := ob.ErrorCode(err); got != ob.CodeForbidden {
					t.Errorf("%s with %v: code %q (%v), want %q", tt.call, perms, got, err, ob.CodeForbidden)
				}
			}
		})
	}
}

// TestAccountScope checks the account rules for every per-account call:
// in the grant → served; Alice's own account not selected → 403; another
// customer's account or an unknown id → 400 NotFound, indistinguishably.
func TestAccountScope(t *testing.T) {
	all := ob.Permissions(ob.AllPermissions)
	tests := []struct {
		name, accountID, want string
	}{
		{"in grant", obtest.Acc1, ""},
		{"own account outside consent", obtest.Acc2, ob.CodeForbidden},
		{"another customer's account", obtest.Acc3, ob.CodeResourceNotFound},
		{"unknown account", "acc-nope", ob.CodeResourceNotFound},
	}
	for name, c := range calls {
		if name == "PSUParty" {
			continue
		}
		for _, tt := range tests {
			t.Run(name+"/"+tt.name, func(t *testing.T) {
				s, _ := newService()
				err := c(s, grant(all...), tt.accountID)
				if got := ob.ErrorCode(err); got != tt.want {
					t.Errorf("%s(%q) code = %q (%v), want %q", name, tt.accountID, got, err, tt.want)
				}
			})
		}
	}
}

func TestBulkListsOnlyGrantedAccounts(t *testing.T) {
	s, _ := newService()
	g := grant(ob.AllPermissions...)
	ctx := context.Background()
	accs, _, err := s.Accounts(ctx, g, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(accs) != 1 || accs[0].ID != obtest.Acc1 {
		t.Errorf("Accounts = %v, want only %s", accs, obtest.Acc1)
	}
	bals, _, err := s.Balances(ctx, g, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bals {
		if b.AccountID != obtest.Acc1 {
			t.Errorf("Balances lists account %s outside the grant", b.AccountID)
		}
	}
	page, _, err := s.Transactions(ctx, g, ais.TransactionsRequest{PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, tx := range page.Transactions {
		if tx.AccountID != obtest.Acc1 {
			t.Errorf("Transactions lists account %s outside the grant", tx.AccountID)
		}
	}
}

func TestInactiveGrant(t *testing.T) {
	s, _ := newService()
	revoked := grant(ob.ReadAccountsDetail)
	revoked.RevokedAt = ptr(now.Add(-time.Minute))
	expired := grant(ob.ReadAccountsDetail)
	expired.ExpiresAt = ptr(now.Add(-time.Minute))
	for name, g := range map[string]ob.AccessGrant{"revoked": revoked, "expired": expired} {
		_, _, err := s.Accounts(context.Background(), g, "")
		if got := ob.ErrorCode(err); got != ob.CodeUnauthorized {
			t.Errorf("%s grant: code %q, want %q", name, got, ob.CodeUnauthorized)
		}
	}
}

func TestDetailFields(t *testing.T) {
	ctx := context.Background()
	for _, detail := range []bool{false, true} {
		name := map[bool]string{false: "Basic", true: "Detail"}[detail]
		t.Run(name, func(t *testing.T) {
			pick := func(basic, det ob.Permission) ob.Permission {
				if detail {
					return det
				}
				return basic
			}
			s, _ := newService()
			g := grant(pick(ob.ReadAccountsBasic, ob.ReadAccountsDetail),
				pick(ob.ReadTransactionsBasic, ob.ReadTransactionsDetail), ob.ReadTransactionsCredits, ob.ReadTransactionsDebits,
				pick(ob.ReadBeneficiariesBasic, ob.ReadBeneficiariesDetail),
				pick(ob.ReadStandingOrdersBasic, ob.ReadStandingOrdersDetail),
				pick(ob.ReadScheduledPaymentsBasic, ob.ReadScheduledPaymentsDetail),
				pick(ob.ReadStatementsBasic, ob.ReadStatementsDetail))
			present := func(what string, got bool) {
				t.Helper()
				if got != detail {
					t.Errorf("%s: %s present = %v, want %v", name, what, got, detail)
				}
			}

			accs, v, err := s.Accounts(ctx, g, obtest.Acc1)
			if err != nil {
				t.Fatal(err)
			}
			if want := map[bool]ob.Level{false: ob.LevelBasic, true: ob.LevelDetail}[detail]; v.Level != want {
				t.Errorf("View.Level = %v, want %v", v.Level, want)
			}
			present("Account identifications", len(accs[0].Identifications) > 0)
			present("Account servicer", accs[0].Servicer != nil)

			page, _, err := s.Transactions(ctx, g, ais.TransactionsRequest{AccountID: obtest.Acc1, PageSize: 100})
			if err != nil {
				t.Fatal(err)
			}
			var tx1, tx3 ob.Transaction
			for _, tx := range page.Transactions {
				switch tx.ID {
				case "tx-001":
					tx1 = tx
				case "tx-003":
					tx3 = tx
				}
			}
			present("TransactionInformation", tx1.Information != "")
			present("Balance", tx1.BalanceAfter != nil)
			present("MerchantDetails", tx3.Merchant != nil)
			present("CreditorAgent", tx1.CreditorAgent != nil)
			present("CreditorAccount", tx1.CreditorAccount != nil)
			present("DebtorAgent", tx1.DebtorAgent != nil)
			present("DebtorAccount", tx1.DebtorAccount != nil)
			if tx1.Reference == "" || tx1.BankTransactionCode == nil {
				t.Errorf("%s: basic transaction fields missing: %+v", name, tx1)
			}

			bens, _, err := s.Beneficiaries(ctx, g, obtest.Acc1)
			if err != nil {
				t.Fatal(err)
			}
			present("Beneficiary creditor", bens[0].CreditorAgent != nil && bens[0].CreditorAccount != nil)
			sos, _, err := s.StandingOrders(ctx, g, obtest.Acc1)
			if err != nil {
				t.Fatal(err)
			}
			present("StandingOrder creditor", sos[0].CreditorAgent != nil && sos[0].CreditorAccount != nil)
			sps, _, err := s.ScheduledPayments(ctx, g, obtest.Acc1)
			if err != nil {
				t.Fatal(err)
			}
			present("ScheduledPayment creditor", sps[0].CreditorAgent != nil && sps[0].CreditorAccount != nil)
			sts, _, err := s.Statements(ctx, g, ais.StatementsRequest{AccountID: obtest.Acc1})
			if err != nil {
				t.Fatal(err)
			}
			present("StatementAmount", len(sts[0].Amounts) > 0)
			st, _, err := s.Statement(ctx, g, obtest.Acc1, "stmt-001-01")
			if err != nil {
				t.Fatal(err)
			}
			present("StatementAmount of one statement", len(st.Amounts) > 0)
		})
	}
}

func TestPANMasking(t *testing.T) {
	ctx := context.Background()
	for _, readPAN := range []bool{false, true} {
		perms := []ob.Permission{ob.ReadAccountsDetail, ob.ReadTransactionsDetail, ob.ReadTransactionsDebits}
		if readPAN {
			perms = append(perms, ob.ReadPAN)
		}
		s, f := newService()
		// Bob's card account carries a PAN identification.
		g := ob.AccessGrant{ID: "g", CustomerID: obtest.Bob, Permissions: perms, AccountIDs: []string{obtest.Acc3}}
		accs, _, err := s.Accounts(ctx, g, obtest.Acc3)
		if err != nil {
			t.Fatal(err)
		}
		wantAcc := "4929000000006"
		if !readPAN {
			wantAcc = "*********0006"
		}
		if got := accs[0].Identifications[0].Identification; got != wantAcc {
			t.Errorf("ReadPAN=%v: account PAN = %q, want %q", readPAN, got, wantAcc)
		}
		// The card of Alice's coffee, through her grant.
		g = grant(perms...)
		page, _, err := s.Transactions(ctx, g, ais.TransactionsRequest{AccountID: obtest.Acc1, PageSize: 100})
		if err != nil {
			t.Fatal(err)
		}
		wantCard := "4929000000001234"
		if !readPAN {
			wantCard = "************1234"
		}
		for _, tx := range page.Transactions {
			if tx.ID == "tx-003" && tx.Card.Identification != wantCard {
				t.Errorf("ReadPAN=%v: card = %q, want %q", readPAN, tx.Card.Identification, wantCard)
			}
		}
		// Redaction must never write through to the store's values.
		if got := f.d.Accounts[2].Identifications[0].Identification; got != "4929000000006" {
			t.Errorf("store value modified: %q", got)
		}
	}
}

func TestMaskPAN(t *testing.T) {
	for in, want := range map[string]string{
		"4929000000001234": "************1234",
		"1234":             "****",
		"12":               "**",
		"":                 "",
		"12345":            "*2345",
	} {
		if got := ais.MaskPAN(in); got != want {
			t.Errorf("MaskPAN(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCreditsDebits(t *testing.T) {
	tests := []struct {
		name                  string
		perm                  ob.Permission
		wantCredit, wantDebit bool
	}{
		{"credits only", ob.ReadTransactionsCredits, true, false},
		{"debits only", ob.ReadTransactionsDebits, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, f := newService()
			page, _, err := s.Transactions(context.Background(), grant(ob.ReadTransactionsBasic, tt.perm),
				ais.TransactionsRequest{AccountID: obtest.Acc1, PageSize: 100})
			if err != nil {
				t.Fatal(err)
			}
			if f.lastTxQuery.Credits != tt.wantCredit || f.lastTxQuery.Debits != tt.wantDebit {
				t.Errorf("query Credits/Debits = %v/%v, want %v/%v", f.lastTxQuery.Credits, f.lastTxQuery.Debits, tt.wantCredit, tt.wantDebit)
			}
			if len(page.Transactions) == 0 {
				t.Fatal("no transactions")
			}
			for _, tx := range page.Transactions {
				if tx.IsCredit() != tt.wantCredit {
					t.Errorf("%s listed %s (credit=%v)", tt.name, tx.ID, tx.IsCredit())
				}
			}
		})
	}
}

func TestTransactionWindow(t *testing.T) {
	d := func(day int) *time.Time { return ptr(time.Date(2026, 1, day, 0, 0, 0, 0, time.UTC)) }
	tests := []struct {
		name                 string
		consentFrom, consent *time.Time
		from, to             *time.Time
		wantFrom, wantTo     *time.Time
	}{
		{"open", nil, nil, nil, nil, nil, nil},
		{"TPP filter only", nil, nil, d(3), d(9), d(3), d(9)},
		{"consent only", d(2), d(10), nil, nil, d(2), d(10)},
		{"filter inside consent", d(2), d(10), d(3), d(9), d(3), d(9)},
		{"filter wider than consent", d(2), d(10), d(1), d(20), d(2), d(10)},
		{"overlapping", d(2), d(10), d(5), d(20), d(5), d(10)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, f := newService()
			g := grant(ob.ReadTransactionsDetail, ob.ReadTransactionsCredits)
			g.TransactionFrom, g.TransactionTo = tt.consentFrom, tt.consent
			if _, _, err := s.Transactions(context.Background(), g,
				ais.TransactionsRequest{AccountID: obtest.Acc1, From: tt.from, To: tt.to, PageSize: 7,
					Cursor: ob.TxCursor{Mode: ob.CursorPage, Page: 2}}); err != nil {
				t.Fatal(err)
			}
			q := f.lastTxQuery
			if diff := cmp.Diff(tt.wantFrom, q.From); diff != "" {
				t.Errorf("From (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantTo, q.To); diff != "" {
				t.Errorf("To (-want +got):\n%s", diff)
			}
			if !cmp.Equal(q.WindowFrom, tt.consentFrom) || !cmp.Equal(q.WindowTo, tt.consent) {
				t.Errorf("Window = %v..%v, want the consent's %v..%v", q.WindowFrom, q.WindowTo, tt.consentFrom, tt.consent)
			}
			if q.PageSize != 7 || q.Cursor.Page != 2 || q.Cursor.Mode != ob.CursorPage {
				t.Errorf("page size/cursor not passed through: %+v", q)
			}
		})
	}
}

func TestStatements(t *testing.T) {
	ctx := context.Background()
	jan := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	feb := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	mar := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

	t.Run("unknown statement", func(t *testing.T) {
		s, _ := newService()
		_, _, err := s.Statement(ctx, grant(ob.ReadStatementsDetail), obtest.Acc1, "stmt-nope")
		var e *ob.Error
		if ob.ErrorCode(err) != ob.CodeResourceNotFound || !errors.As(err, &e) || e.Path != "StatementId" {
			t.Errorf("err = %v, want NotFound on StatementId", err)
		}
	})
	t.Run("another account's statement", func(t *testing.T) {
		s, _ := newService()
		_, _, err := s.Statement(ctx, grant(ob.ReadStatementsDetail), obtest.Acc1, "stmt-002-01")
		if ob.ErrorCode(err) != ob.CodeResourceNotFound {
			t.Errorf("err = %v, want NotFound", err)
		}
	})
	t.Run("outside the consent window", func(t *testing.T) {
		s, _ := newService()
		g := grant(ob.ReadStatementsDetail)
		g.TransactionFrom = &feb
		if _, _, err := s.Statement(ctx, g, obtest.Acc1, "stmt-001-01"); ob.ErrorCode(err) != ob.CodeForbidden {
			t.Errorf("January statement with window from February: %v, want forbidden", err)
		}
		sts, _, err := s.Statements(ctx, g, ais.StatementsRequest{AccountID: obtest.Acc1})
		if err != nil {
			t.Fatal(err)
		}
		if len(sts) != 1 || sts[0].ID != "stmt-001-02" {
			t.Errorf("Statements = %v, want only February's", sts)
		}
	})
	t.Run("filter intersected with window", func(t *testing.T) {
		s, f := newService()
		g := grant(ob.ReadStatementsBasic)
		g.TransactionFrom, g.TransactionTo = &jan, &mar
		if _, _, err := s.Statements(ctx, g, ais.StatementsRequest{AccountID: obtest.Acc1, From: &feb}); err != nil {
			t.Fatal(err)
		}
		if !f.lastStQuery.From.Equal(feb) || !f.lastStQuery.To.Equal(mar) {
			t.Errorf("query = %v..%v, want %v..%v", f.lastStQuery.From, f.lastStQuery.To, feb, mar)
		}
	})
	t.Run("statement transactions use the statement period", func(t *testing.T) {
		s, f := newService()
		g := grant(ob.ReadTransactionsBasic, ob.ReadTransactionsDebits, ob.ReadTransactionsCredits)
		_, _, err := s.Transactions(ctx, g, ais.TransactionsRequest{AccountID: obtest.Acc1, StatementID: "stmt-001-01", PageSize: 10})
		if err != nil {
			t.Fatal(err)
		}
		q := f.lastTxQuery
		if !q.From.Equal(jan) || !q.To.Equal(feb.Add(-time.Microsecond)) {
			t.Errorf("window = %v..%v, want January", q.From, q.To)
		}
		_, _, err = s.Transactions(ctx, g, ais.TransactionsRequest{AccountID: obtest.Acc1, StatementID: "stmt-nope", PageSize: 10})
		if ob.ErrorCode(err) != ob.CodeResourceNotFound {
			t.Errorf("unknown statement: %v, want NotFound", err)
		}
	})
}

func TestParties(t *testing.T) {
	ctx := context.Background()
	s, _ := newService()
	g := grant(ob.ReadParty, ob.ReadPartyPSU)
	g.AccountIDs = []string{obtest.Acc1, obtest.Acc2}

	p, _, err := s.AccountParty(ctx, g, obtest.Acc2)
	if err != nil {
		t.Fatal(err)
	}
	if p.Customer.ID != obtest.Alice || p.AccountRole != "UK.OBIE.Principal" || p.PartyType != "Joint" {
		t.Errorf("AccountParty(Acc2) = %+v, want Alice as joint principal", p)
	}
	ps, _, err := s.AccountParties(ctx, g, obtest.Acc2)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range ps {
		ids = append(ids, p.Customer.ID)
	}
	if diff := cmp.Diff([]string{obtest.Alice, obtest.Bob}, ids); diff != "" {
		t.Errorf("AccountParties(Acc2) (-want +got):\n%s", diff)
	}
	psu, _, err := s.PSUParty(ctx, g)
	if err != nil {
		t.Fatal(err)
	}
	if psu.Customer.ID != obtest.Alice || psu.AccountID != "" {
		t.Errorf("PSUParty = %+v, want Alice", psu)
	}
}
