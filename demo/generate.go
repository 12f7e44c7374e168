package demo

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/obank/obank/ob"
)

// The bank itself.
const (
	bankName     = "OBank"
	bankCode     = "OBNK"     // the IBAN bank code
	bankBIC      = "OBNKGB2L" // fictional, well-formed BIC
	bankSortCode = "608371"   // OBank's first branch; branches count up from it
	codeIssuer   = "OBank"    // ProprietaryBankTransactionCode.Issuer
	offerURLBase = "https://obank.example/offers/"
)

// kind is what an account is for; it decides its subtype, product and
// behaviour in the simulation.
type kind int

const (
	kindCurrent kind = iota
	kindJointCurrent
	kindSavings
	kindCreditCard
	kindLoan
	kindMortgage
	kindEuroCurrent
	kindPrepaid
	kindBizCurrent
	kindBizSavings
	kindBizUSD
	kindBizCard
	kindBizLoan
)

// product describes an account kind as the bank sells it.
type product struct {
	subType, currency, name, secondaryID, productType, description string
	nicknames                                                      []string
}

func (k kind) product() product {
	switch k {
	case kindCurrent:
		return product{ob.SubTypeCurrentAccount, "GBP", "OBank Everyday Current Account", "PCA-EVERYDAY-3", "PersonalCurrentAccount", "Everyday Current Account", []string{"Everyday", "Main account", "Day to day", "Spending"}}
	case kindJointCurrent:
		return product{ob.SubTypeCurrentAccount, "GBP", "OBank Joint Current Account", "PCA-JOINT-2", "PersonalCurrentAccount", "Joint Current Account", []string{"Joint account", "Household", "Bills and food"}}
	case kindSavings:
		return product{ob.SubTypeSavings, "GBP", "OBank Easy Access Saver", "SAV-EASY-4", "Other", "Easy Access Saver", []string{"Rainy day", "Holiday fund", "Savings", "House deposit"}}
	case kindCreditCard:
		return product{ob.SubTypeCreditCard, "GBP", "OBank Platinum Credit Card", "CC-PLAT-2", "Other", "Platinum Credit Card", []string{"Credit card", "Platinum", "Online shopping card"}}
	case kindLoan:
		return product{ob.SubTypeLoan, "GBP", "OBank Personal Loan", "LN-PERS-5", "Other", "Personal Loan", []string{"Car loan", "Kitchen loan", "Loan"}}
	case kindMortgage:
		return product{ob.SubTypeMortgage, "GBP", "OBank 5 Year Fixed Rate Mortgage", "MTG-5YFIX-1", "Other", "5 Year Fixed Mortgage", []string{"Mortgage", "Home"}}
	case kindEuroCurrent:
		return product{ob.SubTypeCurrentAccount, "EUR", "OBank Euro Current Account", "PCA-EUR-1", "PersonalCurrentAccount", "Euro Current Account", []string{"Euro account", "France account"}}
	case kindPrepaid:
		return product{ob.SubTypePrePaidCard, "GBP", "OBank Prepaid Card", "PPC-1", "Other", "Prepaid Card", []string{"Prepaid card", "Pocket money card"}}
	case kindBizCurrent:
		return product{ob.SubTypeCurrentAccount, "GBP", "OBank Business Current Account", "BCA-STD-2", "BusinessCurrentAccount", "Business Current Account", []string{"Trading account", "Business account"}}
	case kindBizSavings:
		return product{ob.SubTypeSavings, "GBP", "OBank Business Reserve", "BSAV-RES-1", "Other", "Business Reserve Account", []string{"Tax reserve", "VAT pot"}}
	case kindBizUSD:
		return product{ob.SubTypeCurrentAccount, "USD", "OBank Business US Dollar Account", "BCA-USD-1", "BusinessCurrentAccount", "US Dollar Account", []string{"USD account"}}
	case kindBizCard:
		return product{ob.SubTypeCreditCard, "GBP", "OBank Business Credit Card", "BCC-STD-1", "CommercialCreditCard", "Business Credit Card", []string{"Company card", "Business card"}}
	default: // kindBizLoan
		return product{ob.SubTypeLoan, "GBP", "OBank Small Business Loan", "SME-LOAN-3", "SMELoan", "Small Business Loan", []string{"Equipment loan", "Business loan"}}
	}
}

func (k kind) business() bool  { return k >= kindBizCurrent }
func (k kind) isCard() bool    { return k == kindCreditCard || k == kindBizCard }
func (k kind) isLending() bool { return k == kindLoan || k == kindMortgage || k == kindBizLoan }

// generator holds the state of one Generate call.
type generator struct {
	cfg          Config
	today        time.Time // 00:00 UTC of the Anchor's day; history stops before it
	start        time.Time // the first day of history
	pendingFrom  time.Time // card payments from here on are still Pending
	firstStmt    time.Time // the first month with a statement (the first whole month)
	data         *ob.BankData
	logins       []Login
	codes        txCodes
	servicer     *ob.Agent
	merchants    []*ob.Merchant // parallel to the merchants table
	merchantCum  []int          // cumulative weights of merchants
	monthlySpend int64          // a person's expected card spending a month at scale 100%, in pence
	issued       map[string]bool
	usernames    map[string]bool
	nextAccount  int
	nextBen      int
	nextDD       int
	nextSO       int
	nextSP       int
	nextOffer    int
}

func newGenerator(cfg Config) *generator {
	today := time.Date(cfg.Anchor.Year(), cfg.Anchor.Month(), cfg.Anchor.Day(), 0, 0, 0, 0, time.UTC)
	start := today.AddDate(-cfg.Years, 0, 0)
	firstStmt := time.Date(start.Year(), start.Month(), 1, 0, 0, 0, 0, time.UTC)
	if !firstStmt.Equal(start) {
		firstStmt = firstStmt.AddDate(0, 1, 0)
	}
	g := &generator{
		cfg:         cfg,
		today:       today,
		start:       start,
		pendingFrom: today.AddDate(0, 0, -2),
		firstStmt:   firstStmt,
		codes:       newTxCodes(),
		servicer:    &ob.Agent{SchemeName: ob.SchemeBICFI, Identification: bankBIC, Name: bankName},
		issued:      make(map[string]bool),
		usernames:   make(map[string]bool),
	}
	// Roughly 100k-150k transactions for the default bank; size the slices
	// once so the batch is not copied while it grows.
	n := cfg.Customers * cfg.Years
	g.data = &ob.BankData{
		Customers:    make([]ob.Customer, 0, cfg.Customers),
		Accounts:     make([]ob.Account, 0, cfg.Customers*3),
		Transactions: make([]ob.Transaction, 0, n*1300),
		Statements:   make([]ob.Statement, 0, cfg.Customers*3*12*cfg.Years),
	}
	sum := 0
	for i := range merchants {
		m := &merchants[i]
		g.merchants = append(g.merchants, &ob.Merchant{Name: m.name, CategoryCode: m.mcc})
		sum += m.weight
		g.merchantCum = append(g.merchantCum, sum)
		g.monthlySpend += int64(m.weight) * (m.lo + m.hi) / 2
	}
	// The mean purchase, times purchases a day, times days a month.
	g.monthlySpend = g.monthlySpend / int64(sum) * purchasesPerDayX10 * 304 / 100
	return g
}

// role is a customer's place in a household.
type role int

const (
	roleSingle role = iota
	roleBusiness
	rolePrincipal // holds a joint account with the next customer
	roleSecondary
)

func (g *generator) roleOf(i int) role {
	switch {
	case i%10 == 7:
		return roleBusiness
	case i%12 == 2 && i+1 < g.cfg.Customers && (i+1)%10 != 7:
		return rolePrincipal
	case i%12 == 3 && i >= 1 && g.roleOf(i-1) == rolePrincipal:
		return roleSecondary
	}
	return roleSingle
}

// rngFor gives each household its own stream, so a household's data depends
// only on the seed and its position.
func (g *generator) rngFor(i int) *rand.Rand {
	return rand.New(rand.NewPCG(g.cfg.Seed, uint64(i)*0x9E3779B97F4A7C15+1))
}

func (g *generator) run() error {
	pwRNG, passwords := g.drawPasswords()
	g.households(func(h *household) {
		h.openAccounts()
		h.simulate()
		h.finish()
	})
	return g.hashPasswords(pwRNG, passwords)
}

// customersOnly adds the customers and their logins, and nothing else: no
// accounts, no history, no password hashes. They are those run adds, since
// each household draws from a stream of its own (rngFor) and adds its
// customers before anything else.
func (g *generator) customersOnly() {
	_, passwords := g.drawPasswords()
	g.households(func(*household) {})
	for i := range g.data.Customers {
		g.addLogin(i, passwords[i])
	}
}

// drawPasswords returns the customers' passwords and the stream they were
// drawn from, which the password salts come from next.
func (g *generator) drawPasswords() (*rand.Rand, []string) {
	r := rand.New(rand.NewPCG(g.cfg.Seed, 0xD3E0))
	return r, g.passwords(r)
}

// households adds the bank's households in order, their customers first,
// and hands each to fill.
func (g *generator) households(fill func(*household)) {
	slab := &slab{}
	for i := 0; i < g.cfg.Customers; {
		r := g.rngFor(i)
		h := &household{g: g, r: r, slab: slab}
		switch g.roleOf(i) {
		case roleBusiness:
			h.addBusiness(i)
			i++
		case rolePrincipal:
			h.addPerson(i, "", nil)
			h.addPerson(i+1, h.members[0].last, g.data.Customers[h.members[0].idx].Address)
			i += 2
		default:
			h.addPerson(i, "", nil)
			i++
		}
		fill(h)
	}
}

// hashPasswords sets every customer's PasswordHash and the logins. The
// salts are drawn in order first, so hashing in parallel changes nothing
// but the time (a third of Generate's, done serially on two cores).
func (g *generator) hashPasswords(r *rand.Rand, passwords []string) error {
	cs := g.data.Customers
	salts := make([][16]byte, len(cs))
	for i := range salts {
		for j := range salts[i] {
			salts[i][j] = byte(r.Uint32())
		}
	}
	errs := make([]error, len(cs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range next {
				cs[i].PasswordHash, errs[i] = hashPassword(passwords[i], salts[i])
			}
		})
	}
	for i := range cs {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, c := range cs {
		if errs[i] != nil {
			return fmt.Errorf("demo: hashing the password of %s: %w", c.ID, errs[i])
		}
		g.addLogin(i, passwords[i])
	}
	return nil
}

// addLogin gives customer i its TOTP secret and adds its login.
func (g *generator) addLogin(i int, password string) {
	c := &g.data.Customers[i]
	c.TOTPSecret = TOTPSecret(g.cfg.Seed, c.ID)
	g.logins = append(g.logins, Login{Username: c.Username, Password: password, CustomerID: c.ID, Name: c.Name,
		TOTPSecret: c.TOTPSecret})
}

// passwords returns distinct "demo-NNNN" passwords, easy to type, widening
// the number for very large banks.
func (g *generator) passwords(r *rand.Rand) []string {
	digits, space := 4, 9000
	for space < g.cfg.Customers*2 {
		digits++
		space *= 10
	}
	base := space / 9 // the smallest number with that many digits
	seen := make(map[int]bool, g.cfg.Customers)
	out := make([]string, g.cfg.Customers)
	for i := range out {
		n := base + r.IntN(space)
		for seen[n] {
			n = base + r.IntN(space)
		}
		seen[n] = true
		out[i] = fmt.Sprintf("demo-%0*d", digits, n)
	}
	return out
}

// uniqueDigits draws an n-digit number with the given prefix that the bank
// has not issued before (account numbers, card numbers).
func (g *generator) uniqueDigits(r *rand.Rand, prefix string, n int, luhn bool) string {
	for {
		var b strings.Builder
		b.WriteString(prefix)
		body := n - len(prefix)
		if luhn {
			body--
		}
		for range body {
			b.WriteByte(byte('0' + r.IntN(10)))
		}
		s := b.String()
		if luhn {
			d, _ := ob.LuhnCheckDigit(s) // digits only by construction
			s += string(d)
		}
		if !g.issued[s] {
			g.issued[s] = true
			return s
		}
	}
}

// username makes a unique login name from base ("Amelia.Jones" becomes
// amelia.jones, then amelia.jones2 for the next Amelia Jones).
func (g *generator) username(base string) string {
	base = strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' {
			r += 'a' - 'A'
		}
		if r >= 'a' && r <= 'z' || r == '.' {
			return r
		}
		return -1
	}, base)
	u := base
	for n := 2; g.usernames[u]; n++ {
		u = fmt.Sprintf("%s%d", base, n)
	}
	g.usernames[u] = true
	return u
}

// pickMerchant draws a merchant by weight.
func (g *generator) pickMerchant(r *rand.Rand) int {
	x := r.IntN(g.merchantCum[len(g.merchantCum)-1])
	for i, c := range g.merchantCum {
		if x < c {
			return i
		}
	}
	return len(g.merchantCum) - 1
}

// txCodes are the bank transaction codes, one shared value each.
type txCodes struct {
	creditIn, creditOut, soIn, soOut, ddOut, ddIn, card, atm, interestIn, interestOut *ob.BankTransactionCode
	pFPI, pFPO, pSO, pDD, pDEB, pCPT, pINT, pBGC, pTFR                                *ob.ProprietaryCode
}

// newTxCodes uses the ISO 20022 family / sub-family names OBIE's own
// examples use (ReceivedCreditTransfer / DomesticCreditTransfer) and the
// codes UK statements print (FPI faster payment in, DD, SO, DEB card...).
func newTxCodes() txCodes {
	bt := func(c, s string) *ob.BankTransactionCode { return &ob.BankTransactionCode{Code: c, SubCode: s} }
	pc := func(c string) *ob.ProprietaryCode { return &ob.ProprietaryCode{Code: c, Issuer: codeIssuer} }
	return txCodes{
		creditIn:    bt("ReceivedCreditTransfer", "DomesticCreditTransfer"),
		creditOut:   bt("IssuedCreditTransfer", "DomesticCreditTransfer"),
		soIn:        bt("ReceivedCreditTransfer", "StandingOrder"),
		soOut:       bt("IssuedCreditTransfer", "StandingOrder"),
		ddOut:       bt("IssuedDirectDebit", "DirectDebit"),
		ddIn:        bt("ReceivedDirectDebit", "DirectDebit"),
		card:        bt("CustomerCardTransaction", "CardPayment"),
		atm:         bt("CustomerCardTransaction", "CashWithdrawal"),
		interestIn:  bt("MiscellaneousCreditOperation", "Interest"),
		interestOut: bt("MiscellaneousDebitOperation", "Interest"),
		pFPI:        pc("FPI"),
		pFPO:        pc("FPO"),
		pSO:         pc("SO"),
		pDD:         pc("DD"),
		pDEB:        pc("DEB"),
		pCPT:        pc("CPT"),
		pINT:        pc("INT"),
		pBGC:        pc("BGC"),
		pTFR:        pc("TFR"),
	}
}

// Ofcom reserves 07700 900000-900999 for drama: real-looking, never real.
func mobileNumber(r *rand.Rand) string { return fmt.Sprintf("+44-7700900%03d", r.IntN(1000)) }

func landline(r *rand.Rand, t town) string { return fmt.Sprintf("%s%03d", t.phone, r.IntN(1000)) }

// postcode makes a well-formed UK postcode in the town's area.
func postcode(r *rand.Rand, t town) string {
	const inward = "ABDEFGHJLNPQRSTUWXYZ" // letters used in the inward code
	return fmt.Sprintf("%s%d %d%c%c", t.postArea, 1+r.IntN(20), r.IntN(10), inward[r.IntN(len(inward))], inward[r.IntN(len(inward))])
}

func (g *generator) address(r *rand.Rand, t town, typ string) *ob.PostalAddress {
	return &ob.PostalAddress{
		AddressType:        typ,
		BuildingNumber:     fmt.Sprint(1 + r.IntN(180)),
		StreetName:         streets[r.IntN(len(streets))],
		TownName:           t.name,
		CountrySubDivision: t.county,
		PostCode:           postcode(r, t),
		Country:            "GB",
	}
}

// between returns a uniform amount in [lo, hi] pence.
func between(r *rand.Rand, lo, hi int64) int64 {
	if hi <= lo {
		return lo
	}
	return lo + r.Int64N(hi-lo+1)
}

// day returns midnight UTC of y-m-d, normalising out-of-range days.
func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// nextWorkingDay moves a Saturday or Sunday to the Monday, as Bacs does for
// direct debits and standing orders.
func nextWorkingDay(t time.Time) time.Time {
	switch t.Weekday() {
	case time.Saturday:
		return t.AddDate(0, 0, 2)
	case time.Sunday:
		return t.AddDate(0, 0, 1)
	}
	return t
}

// prevWorkingDay moves a weekend to the Friday, as employers do with pay.
func prevWorkingDay(t time.Time) time.Time {
	switch t.Weekday() {
	case time.Saturday:
		return t.AddDate(0, 0, -1)
	case time.Sunday:
		return t.AddDate(0, 0, -2)
	}
	return t
}

func ptr[T any](v T) *T { return &v }

func gbp(minor int64) ob.Money { return ob.Money{Minor: minor, Currency: "GBP"} }

// clip shortens s to at most n bytes (all our strings are ASCII).
func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
