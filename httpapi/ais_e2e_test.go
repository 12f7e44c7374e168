package httpapi_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/obank/obank/ob"
	"github.com/obank/obank/obtest"
)

// TestEndpoints calls every AIS endpoint with a full grant and checks a 200
// that the spec's validator accepts (done by env.get for every response).
func TestEndpoints(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		e := newEnv(t, be)
		tok := e.token(grantOpts{})
		acc := "/accounts/" + obtest.Acc1
		tests := []struct {
			path    string
			key     string // Data key
			minRows int
		}{
			{"/accounts", "Account", 3},
			{acc, "Account", 1},
			{acc + "/balances", "Balance", 2},
			{"/balances", "Balance", 3},
			{acc + "/transactions", "Transaction", 4},
			{"/transactions", "Transaction", testPageSize},
			{acc + "/beneficiaries", "Beneficiary", 1},
			{"/beneficiaries", "Beneficiary", 2},
			{acc + "/direct-debits", "DirectDebit", 1},
			{"/direct-debits", "DirectDebit", 2},
			{acc + "/standing-orders", "StandingOrder", 1},
			{"/standing-orders", "StandingOrder", 2},
			{acc + "/scheduled-payments", "ScheduledPayment", 1},
			{"/scheduled-payments", "ScheduledPayment", 2},
			{acc + "/statements", "Statement", 2},
			{"/statements", "Statement", 3},
			{acc + "/statements/stmt-001-01", "Statement", 1},
			{acc + "/statements/stmt-001-01/file", "Statement", 1},
			{acc + "/statements/stmt-001-01/transactions", "Transaction", 0},
			{acc + "/product", "Product", 1},
			{"/products", "Product", 2},
			{acc + "/offers", "Offer", 1},
			{"/offers", "Offer", 2},
			{acc + "/parties", "Party", 1},
			{"/accounts/" + obtest.Acc2 + "/parties", "Party", 2},
			{acc + "/party", "", 0},
			{"/party", "", 0},
		}
		for _, tt := range tests {
			t.Run(strings.TrimPrefix(tt.path, "/"), func(t *testing.T) {
				r := e.get(aisBase+tt.path, tok).wantStatus(t, 200)
				if got := r.header.Get("Content-Type"); got != "application/json; charset=utf-8" {
					t.Errorf("Content-Type = %q", got)
				}
				if self := r.links()["Self"]; self != publicURL+aisBase+tt.path {
					t.Errorf("Links.Self = %v, want %s", self, publicURL+aisBase+tt.path)
				}
				if tt.key == "" {
					data, _ := r.json["Data"].(map[string]any)
					if _, ok := data["Party"].(map[string]any); !ok {
						t.Errorf("Data.Party missing: %s", r.body)
					}
					return
				}
				if rows := r.list(tt.key); len(rows) < tt.minRows {
					t.Errorf("%d %s rows, want at least %d: %s", len(rows), tt.key, tt.minRows, r.body)
				}
				if !strings.Contains(string(r.body), `"`+tt.key+`":[`) {
					t.Errorf("Data.%s is not an array: %s", tt.key, r.body)
				}
			})
		}
	})
}

// TestEmptyCollections checks that empty data is 200 with [].
func TestEmptyCollections(t *testing.T) {
	e := newEnv(t, backends()[0])
	tok := e.token(grantOpts{accounts: []string{pagedAcc}})
	for _, p := range []string{"/beneficiaries", "/direct-debits", "/standing-orders", "/scheduled-payments",
		"/statements", "/offers", "/accounts/" + pagedAcc + "/statements"} {
		r := e.get(aisBase+p, tok).wantStatus(t, 200)
		if !strings.Contains(string(r.body), `":[]`) {
			t.Errorf("%s: want an empty array, got %s", p, r.body)
		}
	}
}

// has reports whether a JSON object has the key.
func has(m map[string]any, key string) bool { _, ok := m[key]; return ok }

func find(rows []map[string]any, idKey, id string) map[string]any {
	for _, r := range rows {
		if r[idKey] == id {
			return r
		}
	}
	return nil
}

func TestDetailVersusBasic(t *testing.T) {
	e := newEnv(t, backends()[0])
	type check struct {
		path, key, idKey, id string
		detailOnly           []string
		always               []string
	}
	acc := aisBase + "/accounts/" + obtest.Acc1
	checks := []check{
		{acc, "Account", "AccountId", obtest.Acc1, []string{"Account", "Servicer"}, []string{"Currency", "Nickname"}},
		{acc + "/transactions", "Transaction", "TransactionId", "tx-001",
			[]string{"TransactionInformation", "Balance", "CreditorAgent", "CreditorAccount", "DebtorAgent", "DebtorAccount"},
			[]string{"Amount", "BookingDateTime", "BankTransactionCode", "SupplementaryData"}},
		{acc + "/transactions", "Transaction", "TransactionId", "tx-003", []string{"MerchantDetails"}, []string{"CardInstrument"}},
		{acc + "/beneficiaries", "Beneficiary", "BeneficiaryId", "ben-001", []string{"CreditorAgent", "CreditorAccount"}, []string{"Reference"}},
		{acc + "/standing-orders", "StandingOrder", "StandingOrderId", "so-001", []string{"CreditorAgent", "CreditorAccount"}, []string{"Frequency"}},
		{acc + "/scheduled-payments", "ScheduledPayment", "ScheduledPaymentId", "sp-001", []string{"CreditorAgent", "CreditorAccount"}, []string{"InstructedAmount"}},
		{acc + "/statements", "Statement", "StatementId", "stmt-001-01", []string{"StatementAmount"}, []string{"StatementFee"}},
	}
	basic := []ob.Permission{ob.ReadAccountsBasic, ob.ReadTransactionsBasic, ob.ReadTransactionsCredits, ob.ReadTransactionsDebits,
		ob.ReadBeneficiariesBasic, ob.ReadStandingOrdersBasic, ob.ReadScheduledPaymentsBasic, ob.ReadStatementsBasic}
	detail := []ob.Permission{ob.ReadAccountsDetail, ob.ReadTransactionsDetail, ob.ReadTransactionsCredits, ob.ReadTransactionsDebits,
		ob.ReadBeneficiariesDetail, ob.ReadStandingOrdersDetail, ob.ReadScheduledPaymentsDetail, ob.ReadStatementsDetail}
	for _, lvl := range []struct {
		name   string
		perms  []ob.Permission
		detail bool
	}{{"Basic", basic, false}, {"Detail", detail, true}} {
		tok := e.token(grantOpts{perms: lvl.perms})
		for _, c := range checks {
			t.Run(lvl.name+"/"+c.key+"/"+c.id, func(t *testing.T) {
				row := find(e.get(c.path, tok).wantStatus(t, 200).list(c.key), c.idKey, c.id)
				if row == nil {
					t.Fatalf("%s %s not listed", c.key, c.id)
				}
				for _, f := range c.detailOnly {
					if has(row, f) != lvl.detail {
						t.Errorf("%s present = %v, want %v", f, has(row, f), lvl.detail)
					}
				}
				for _, f := range c.always {
					if !has(row, f) {
						t.Errorf("%s missing", f)
					}
				}
			})
		}
	}
}

func TestTransactionWireFields(t *testing.T) {
	e := newEnv(t, backends()[0])
	tok := e.token(grantOpts{})
	rows := e.get(aisBase+"/accounts/"+obtest.Acc1+"/transactions", tok).wantStatus(t, 200).list("Transaction")
	tx1 := find(rows, "TransactionId", "tx-001")
	if tx1["CreditDebitIndicator"] != "Debit" {
		t.Errorf("tx-001 CreditDebitIndicator = %v", tx1["CreditDebitIndicator"])
	}
	if amt := tx1["Amount"].(map[string]any); amt["Amount"] != "950.00" || amt["Currency"] != "GBP" {
		t.Errorf("tx-001 Amount = %v, want 950.00 GBP", amt)
	}
	if sd := tx1["SupplementaryData"].(map[string]any); sd["Category"] != "housing" {
		t.Errorf("SupplementaryData = %v", sd)
	}
	if got := tx1["BookingDateTime"]; got != "2026-01-13T09:30:00.123456Z" {
		t.Errorf("BookingDateTime = %v", got)
	}
	tx4 := find(rows, "TransactionId", "tx-004")
	if tx4["CreditDebitIndicator"] != "Credit" || has(tx4, "SupplementaryData") || has(tx4, "TransactionMutability") {
		t.Errorf("tx-004 (zero amount, no category, no mutability) = %v", tx4)
	}
	if has(tx4, "StatementReference") {
		t.Errorf("tx-004 has an empty StatementReference: %v", tx4)
	}
}

func TestPANMasking(t *testing.T) {
	e := newEnv(t, backends()[0])
	for _, tt := range []struct {
		name      string
		perms     []ob.Permission
		acc, card string
	}{
		{"without ReadPAN", []ob.Permission{ob.ReadAccountsDetail, ob.ReadTransactionsBasic, ob.ReadTransactionsDebits},
			"*********0006", "************1234"},
		{"with ReadPAN", []ob.Permission{ob.ReadAccountsDetail, ob.ReadTransactionsBasic, ob.ReadTransactionsDebits, ob.ReadPAN},
			"4929000000006", "4929000000001234"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			bob := e.token(grantOpts{customer: obtest.Bob, accounts: []string{obtest.Acc3}, perms: tt.perms})
			acc := e.get(aisBase+"/accounts/"+obtest.Acc3, bob).wantStatus(t, 200).list("Account")[0]
			ids := acc["Account"].([]any)
			if got := ids[0].(map[string]any)["Identification"]; got != tt.acc {
				t.Errorf("account PAN = %v, want %s", got, tt.acc)
			}
			alice := e.token(grantOpts{perms: tt.perms})
			tx := find(e.get(aisBase+"/accounts/"+obtest.Acc1+"/transactions", alice).list("Transaction"), "TransactionId", "tx-003")
			if got := tx["CardInstrument"].(map[string]any)["Identification"]; got != tt.card {
				t.Errorf("card = %v, want %s", got, tt.card)
			}
		})
	}
}

func TestCreditsDebits(t *testing.T) {
	e := newEnv(t, backends()[0])
	for _, tt := range []struct {
		perm ob.Permission
		want string
	}{{ob.ReadTransactionsCredits, "Credit"}, {ob.ReadTransactionsDebits, "Debit"}} {
		t.Run(string(tt.perm), func(t *testing.T) {
			tok := e.token(grantOpts{perms: []ob.Permission{ob.ReadTransactionsDetail, tt.perm}})
			r := e.get(aisBase+"/accounts/"+pagedAcc+"/transactions", tok).wantStatus(t, 200)
			rows := r.list("Transaction")
			if len(rows) == 0 {
				t.Fatal("no transactions")
			}
			for _, row := range rows {
				if row["CreditDebitIndicator"] != tt.want {
					t.Errorf("%v listed with only %s", row["TransactionId"], tt.perm)
				}
			}
			if got, want := r.meta()["TotalPages"], float64(totalPages(pagedTxCount/2)); got != want {
				t.Errorf("TotalPages = %v, want %v", got, want)
			}
		})
	}
}

func totalPages(n int) int { return max(1, (n+testPageSize-1)/testPageSize) }

func TestAccessErrors(t *testing.T) {
	e := newEnv(t, backends()[0])
	onlyAcc1 := e.token(grantOpts{accounts: []string{obtest.Acc1}})
	noBalances := e.token(grantOpts{perms: []ob.Permission{ob.ReadAccountsDetail}})
	tests := []struct {
		name, path, tok string
		status          int
		code, errPath   string
	}{
		{"missing permission", "/accounts/" + obtest.Acc1 + "/balances", noBalances, 403, ob.CodeResourceConsentMismatch, ""},
		{"missing permission bulk", "/balances", noBalances, 403, ob.CodeResourceConsentMismatch, ""},
		{"own account outside consent", "/accounts/" + obtest.Acc2, onlyAcc1, 403, ob.CodeResourceConsentMismatch, ""},
		{"own account outside consent, transactions", "/accounts/" + obtest.Acc2 + "/transactions", onlyAcc1, 403, ob.CodeResourceConsentMismatch, ""},
		{"another customer's account", "/accounts/" + obtest.Acc3 + "/balances", onlyAcc1, 400, ob.CodeResourceNotFound, "AccountId"},
		{"unknown account", "/accounts/acc-nope", onlyAcc1, 400, ob.CodeResourceNotFound, "AccountId"},
		{"unknown account transactions", "/accounts/acc-nope/transactions", onlyAcc1, 400, ob.CodeResourceNotFound, "AccountId"},
		{"unknown statement", "/accounts/" + obtest.Acc1 + "/statements/stmt-nope", onlyAcc1, 400, ob.CodeResourceNotFound, "StatementId"},
		{"unknown statement file", "/accounts/" + obtest.Acc1 + "/statements/stmt-nope/file", onlyAcc1, 400, ob.CodeResourceNotFound, "StatementId"},
		{"unknown statement transactions", "/accounts/" + obtest.Acc1 + "/statements/stmt-nope/transactions", onlyAcc1, 400, ob.CodeResourceNotFound, "StatementId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.get(aisBase+tt.path, tt.tok).wantError(t, tt.status, tt.code, tt.errPath)
		})
	}
	t.Run("listing only shows granted accounts", func(t *testing.T) {
		rows := e.get(aisBase+"/accounts", onlyAcc1).wantStatus(t, 200).list("Account")
		if len(rows) != 1 || rows[0]["AccountId"] != obtest.Acc1 {
			t.Errorf("accounts = %v, want only %s", rows, obtest.Acc1)
		}
	})
	t.Run("statement file needs ReadStatementsDetail", func(t *testing.T) {
		basic := e.token(grantOpts{perms: []ob.Permission{ob.ReadStatementsBasic}})
		e.get(aisBase+"/accounts/"+obtest.Acc1+"/statements/stmt-001-01/file", basic).wantError(t, 403, ob.CodeResourceConsentMismatch, "")
	})
	t.Run("token without a grant", func(t *testing.T) {
		cc := e.token(grantOpts{noGrant: true})
		e.get(aisBase+"/accounts", cc).wantError(t, 403, ob.CodeResourceConsentMismatch, "")
	})
	t.Run("token without the accounts scope", func(t *testing.T) {
		pay := e.token(grantOpts{scopes: []string{"payments"}})
		e.get(aisBase+"/accounts", pay).wantStatus(t, 403)
	})
}

// TestInMemoryPagination checks the page links of a small collection.
func TestInMemoryPagination(t *testing.T) {
	e := newEnv(t, backends()[0])
	tok := e.token(grantOpts{})
	r := e.get(aisBase+"/balances?page=1", tok).wantStatus(t, 200)
	l := r.links()
	if l["First"] != publicURL+aisBase+"/balances?page=1" || l["Last"] != publicURL+aisBase+"/balances?page=1" ||
		has(l, "Next") || has(l, "Prev") || r.meta()["TotalPages"] != float64(1) {
		t.Errorf("Links = %v Meta = %v", l, r.meta())
	}
	for _, p := range []string{"0", "abc", "2", "-1", "1.5"} {
		e.get(aisBase+"/balances?page="+url.QueryEscape(p), tok).wantError(t, 400, ob.CodeFieldInvalid, "page")
	}
}

func TestSelfLinkKeepsQuery(t *testing.T) {
	e := newEnv(t, backends()[0])
	tok := e.token(grantOpts{})
	q := "?toBookingDateTime=2026-01-15T00:00:00&fromBookingDateTime=2026-01-01"
	r := e.get(aisBase+"/accounts/"+pagedAcc+"/transactions"+q, tok).wantStatus(t, 200)
	if got := r.links()["Self"]; got != publicURL+aisBase+"/accounts/"+pagedAcc+"/transactions"+q {
		t.Errorf("Self = %v", got)
	}
	for _, k := range []string{"First", "Last", "Next"} {
		link, _ := r.links()[k].(string)
		u, err := url.Parse(link)
		if err != nil || !strings.HasPrefix(link, publicURL+aisBase) {
			t.Fatalf("%s = %q, not absolute under %s", k, link, publicURL)
		}
		if u.Query().Get("fromBookingDateTime") != "2026-01-01" || u.Query().Get("toBookingDateTime") != "2026-01-15T00:00:00" {
			t.Errorf("%s lost the filters: %s", k, link)
		}
	}
	if has(r.links(), "Prev") {
		t.Errorf("first page has Prev: %v", r.links())
	}
}
