package web

import (
	"net/url"
	"time"

	"github.com/obank/obank/ob"
)

// permissionText says in plain English what each OBIE account-access
// permission lets the app see. Every code in ob.AllPermissions has an entry
// (a test checks).
var permissionText = map[ob.Permission]string{
	ob.ReadAccountsBasic:           "Your account names, types and currencies",
	ob.ReadAccountsDetail:          "Your account names, types and currencies, with sort codes and account numbers",
	ob.ReadBalances:                "Your account balances",
	ob.ReadBeneficiariesBasic:      "The people and businesses you have saved as payees, without their account details",
	ob.ReadBeneficiariesDetail:     "The people and businesses you have saved as payees, with their account details",
	ob.ReadDirectDebits:            "Your Direct Debits",
	ob.ReadOffers:                  "Offers the bank has made you, such as limit increases or balance transfers",
	ob.ReadPAN:                     "Your full card numbers (otherwise only the last digits are shared)",
	ob.ReadParty:                   "The names and contact details of the account holders",
	ob.ReadPartyPSU:                "Your own name and contact details",
	ob.ReadProducts:                "The products your accounts are, with their rates and fees",
	ob.ReadScheduledPaymentsBasic:  "Payments you have scheduled for the future, without the payee's details",
	ob.ReadScheduledPaymentsDetail: "Payments you have scheduled for the future, with the payee's account details",
	ob.ReadStandingOrdersBasic:     "Your standing orders, without the payee's details",
	ob.ReadStandingOrdersDetail:    "Your standing orders, with the payee's account details",
	ob.ReadStatementsBasic:         "Your statements, without their amounts",
	ob.ReadStatementsDetail:        "Your statements, with their amounts",
	ob.ReadTransactionsBasic:       "Your transactions, without merchant and payee details",
	ob.ReadTransactionsCredits:     "Money coming into your accounts",
	ob.ReadTransactionsDebits:      "Money going out of your accounts",
	ob.ReadTransactionsDetail:      "Your transactions, with merchant and payee details",
}

// permissionView is one row of the permissions table.
type permissionView struct {
	Code, Text string
}

func describePermissions(ps ob.Permissions) []permissionView {
	out := make([]permissionView, 0, len(ps))
	for _, p := range ob.AllPermissions { // a stable, readable order
		if ps.Has(p) {
			out = append(out, permissionView{Code: string(p), Text: permissionText[p]})
		}
	}
	return out
}

// accountView is an account as the pages show it.
type accountView struct {
	ID       string
	Name     string // nickname, or the product description
	Kind     string // e.g. "Current account, GBP"
	Masked   string // the number with all but the last four digits hidden
	Selected bool
}

var subTypeText = map[string]string{
	ob.SubTypeCurrentAccount: "Current account",
	ob.SubTypeSavings:        "Savings",
	ob.SubTypeCreditCard:     "Credit card",
	ob.SubTypeLoan:           "Loan",
	ob.SubTypeMortgage:       "Mortgage",
	ob.SubTypeChargeCard:     "Charge card",
	ob.SubTypeEMoney:         "E-money",
	ob.SubTypePrePaidCard:    "Prepaid card",
}

func describeAccount(a ob.Account) accountView {
	v := accountView{ID: a.ID, Name: a.Nickname, Kind: subTypeText[a.SubType]}
	if v.Name == "" {
		v.Name = a.Description
	}
	if v.Name == "" {
		v.Name = v.Kind
	}
	if v.Kind == "" {
		v.Kind = a.SubType
	}
	v.Kind += ", " + a.Currency
	if len(a.Identifications) > 0 {
		v.Masked = maskNumber(a.Identifications[0].Identification)
	}
	return v
}

// maskNumber keeps the last four characters.
func maskNumber(s string) string {
	if len(s) <= 4 {
		return s
	}
	return "•••• " + s[len(s)-4:]
}

// eligible reports whether the customer may share an account: only open
// ones.
func eligible(a ob.Account) bool { return a.Status == "" || a.Status == "Enabled" }

// dateTime formats a time for the pages.
func dateTime(t time.Time) string { return t.UTC().Format("2 January 2006, 15:04 UTC") }

// date formats a date for the pages.
func date(t time.Time) string { return t.UTC().Format("2 January 2006") }

// httpsURL returns raw if it is an absolute https URL, "" otherwise: a logo
// is only shown from https (the page's CSP allows no other images).
func httpsURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return ""
	}
	return u.String()
}
