package ob

import (
	"slices"
	"strings"
)

// Permission is an OBIE account-access permission code
// (OBReadConsent1.Data.Permissions).
type Permission string

// The 21 permission codes of OBIE v3.1.
const (
	ReadAccountsBasic           Permission = "ReadAccountsBasic"
	ReadAccountsDetail          Permission = "ReadAccountsDetail"
	ReadBalances                Permission = "ReadBalances"
	ReadBeneficiariesBasic      Permission = "ReadBeneficiariesBasic"
	ReadBeneficiariesDetail     Permission = "ReadBeneficiariesDetail"
	ReadDirectDebits            Permission = "ReadDirectDebits"
	ReadOffers                  Permission = "ReadOffers"
	ReadPAN                     Permission = "ReadPAN"
	ReadParty                   Permission = "ReadParty"
	ReadPartyPSU                Permission = "ReadPartyPSU"
	ReadProducts                Permission = "ReadProducts"
	ReadScheduledPaymentsBasic  Permission = "ReadScheduledPaymentsBasic"
	ReadScheduledPaymentsDetail Permission = "ReadScheduledPaymentsDetail"
	ReadStandingOrdersBasic     Permission = "ReadStandingOrdersBasic"
	ReadStandingOrdersDetail    Permission = "ReadStandingOrdersDetail"
	ReadStatementsBasic         Permission = "ReadStatementsBasic"
	ReadStatementsDetail        Permission = "ReadStatementsDetail"
	ReadTransactionsBasic       Permission = "ReadTransactionsBasic"
	ReadTransactionsCredits     Permission = "ReadTransactionsCredits"
	ReadTransactionsDebits      Permission = "ReadTransactionsDebits"
	ReadTransactionsDetail      Permission = "ReadTransactionsDetail"
)

// AllPermissions lists every known permission code.
var AllPermissions = []Permission{
	ReadAccountsBasic, ReadAccountsDetail, ReadBalances, ReadBeneficiariesBasic,
	ReadBeneficiariesDetail, ReadDirectDebits, ReadOffers, ReadPAN, ReadParty,
	ReadPartyPSU, ReadProducts, ReadScheduledPaymentsBasic, ReadScheduledPaymentsDetail,
	ReadStandingOrdersBasic, ReadStandingOrdersDetail, ReadStatementsBasic,
	ReadStatementsDetail, ReadTransactionsBasic, ReadTransactionsCredits,
	ReadTransactionsDebits, ReadTransactionsDetail,
}

// Known reports whether p is one of the 21 OBIE permission codes.
func (p Permission) Known() bool { return slices.Contains(AllPermissions, p) }

// Permissions is a set of granted permissions.
type Permissions []Permission

// Has reports whether the set contains p.
func (ps Permissions) Has(p Permission) bool { return slices.Contains(ps, p) }

// HasAny reports whether the set contains any of the given permissions.
func (ps Permissions) HasAny(p ...Permission) bool {
	return slices.ContainsFunc(p, ps.Has)
}

// Level is what a pair of Basic/Detail permissions grants for a resource.
type Level int

const (
	// LevelNone: neither Basic nor Detail granted; the resource is forbidden.
	LevelNone Level = iota
	// LevelBasic: the resource without the fields OBIE reserves for Detail.
	LevelBasic
	// LevelDetail: every field. Detail implies Basic.
	LevelDetail
)

// Level returns the access level a Basic/Detail pair grants.
func (ps Permissions) Level(basic, detail Permission) Level {
	switch {
	case ps.Has(detail):
		return LevelDetail
	case ps.Has(basic):
		return LevelBasic
	}
	return LevelNone
}

// String joins the codes with spaces, the form the stores persist.
func (ps Permissions) String() string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = string(p)
	}
	return strings.Join(s, " ")
}

// ParsePermissions splits a space-separated list as written by String.
func ParsePermissions(s string) Permissions {
	var ps Permissions
	for _, f := range strings.Fields(s) {
		ps = append(ps, Permission(f))
	}
	return ps
}
