package sqlstore

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/obank/obank/ob"
)

// The parts column of transactions holds every part of a transaction that
// no query filters or orders on, in one compact, exact text encoding; only
// id, account_id, booking_time and amount_minor (and seq) are columns of
// their own, for the keyset index and the filters. One column instead of a
// dozen, and no JSON, matters on the hot path: with modernc.org/sqlite every
// column fetched costs a call into the SQLite engine, an allocation for its
// text and one for boxing it, and a page reads 100 rows. Decoding shares the
// column's string: the strings of a decoded transaction cost nothing more.
//
// The encoding is a fixed head of fields, then a sequence of groups, each
// at most once and in the order below, each a tag byte followed by its
// fields. A field is its length in bytes in decimal, ':' and the bytes (any
// bytes: nothing is escaped). A list is a field holding its length in
// decimal ("" for a nil list, "0" for an empty one) followed by that many
// fields. Amounts are minor units in decimal, then the currency. Times are
// unix microseconds in decimal, "" for none.
//
// The head, always present:
//
//	Reference Status Mutability ValueDateTime Information AddressLine
//	Amount.Currency Category
//
// The groups:
//
//	S list                                  StatementReferences
//	B code subcode                          BankTransactionCode
//	P code issuer                           ProprietaryBankTransactionCode
//	G minor currency                        ChargeAmount
//	A minor currency                        BalanceAfter
//	M name categoryCode                     Merchant
//	C scheme authorisation name pan         Card
//	R agent                                 CreditorAgent
//	r scheme identification name secondary  CreditorAccount
//	D agent                                 DebtorAgent
//	d scheme identification name secondary  DebtorAccount
//
// An agent is scheme, identification, name and a field "" (no postal
// address) or "1" followed by the address: type, department, sub-department,
// street, building number, post code, town, country sub-division, country
// and the list of address lines.
//
// For example "3:Ref6:Booked9:Immutable0:4:Info0:3:GBP0:B5:Code7:SubCodeA5:-12503:GBP".
const txPartTags = "SBPGAMCRrDd"

type partsEnc []byte

func (b *partsEnc) field(s string) {
	*b = strconv.AppendInt(*b, int64(len(s)), 10)
	*b = append(*b, ':')
	*b = append(*b, s...)
}

func (b *partsEnc) fields(ss ...string) {
	for _, s := range ss {
		b.field(s)
	}
}

func (b *partsEnc) list(ss []string) {
	if ss == nil {
		b.field("")
		return
	}
	b.field(strconv.Itoa(len(ss)))
	b.fields(ss...)
}

func (b *partsEnc) money(tag byte, m *ob.Money) {
	if m != nil {
		*b = append(*b, tag)
		b.fields(strconv.FormatInt(m.Minor, 10), m.Currency)
	}
}

func (b *partsEnc) agent(tag byte, a *ob.Agent) {
	if a == nil {
		return
	}
	*b = append(*b, tag)
	b.fields(a.SchemeName, a.Identification, a.Name)
	p := a.PostalAddress
	if p == nil {
		b.field("")
		return
	}
	b.fields("1", p.AddressType, p.Department, p.SubDepartment, p.StreetName, p.BuildingNumber, p.PostCode,
		p.TownName, p.CountrySubDivision, p.Country)
	b.list(p.AddressLines)
}

func (b *partsEnc) account(tag byte, a *ob.AccountIdentification) {
	if a != nil {
		*b = append(*b, tag)
		b.fields(a.SchemeName, a.Identification, a.Name, a.SecondaryIdentification)
	}
}

// encodeTxParts returns the parts column's value for t.
func encodeTxParts(t *ob.Transaction) string {
	b := make(partsEnc, 0, 128)
	b.fields(t.Reference, t.Status, t.Mutability)
	if t.ValueDateTime != nil {
		b.field(strconv.FormatInt(micros(*t.ValueDateTime), 10))
	} else {
		b.field("")
	}
	b.fields(t.Information, t.AddressLine, t.Amount.Currency, t.Category)
	if t.StatementReferences != nil {
		b = append(b, 'S')
		b.list(t.StatementReferences)
	}
	if c := t.BankTransactionCode; c != nil {
		b = append(b, 'B')
		b.fields(c.Code, c.SubCode)
	}
	if c := t.ProprietaryBankTransactionCode; c != nil {
		b = append(b, 'P')
		b.fields(c.Code, c.Issuer)
	}
	b.money('G', t.ChargeAmount)
	b.money('A', t.BalanceAfter)
	if m := t.Merchant; m != nil {
		b = append(b, 'M')
		b.fields(m.Name, m.CategoryCode)
	}
	if c := t.Card; c != nil {
		b = append(b, 'C')
		b.fields(c.SchemeName, c.AuthorisationType, c.Name, c.Identification)
	}
	b.agent('R', t.CreditorAgent)
	b.account('r', t.CreditorAccount)
	b.agent('D', t.DebtorAgent)
	b.account('d', t.DebtorAccount)
	return string(b)
}

var errTxParts = errors.New("malformed transaction parts")

// partsDec reads the encoding; bad records the first malformation. The
// strings it returns share the encoded string's memory. The parts it points
// to come from a's slabs (one allocation per part type for a page of rows
// instead of one per row), or are allocated one by one when a is nil.
type partsDec struct {
	s   string
	bad bool
	a   *txAlloc
}

// txAlloc hands out the pointed-to parts of the transactions of one page
// from slabs of n values each. Every value is handed out once, so the
// transactions share no memory with each other, only backing arrays.
type txAlloc struct {
	n         int
	money     []ob.Money
	codes     []ob.BankTransactionCode
	merchants []ob.Merchant
	times     []time.Time
}

func slabNew[T any](slab *[]T, n int) *T {
	if len(*slab) == 0 {
		*slab = make([]T, max(n, 1))
	}
	p := &(*slab)[0]
	*slab = (*slab)[1:]
	return p
}

func (a *txAlloc) newMoney() *ob.Money {
	if a == nil {
		return new(ob.Money)
	}
	return slabNew(&a.money, a.n)
}

func (a *txAlloc) newCode() *ob.BankTransactionCode {
	if a == nil {
		return new(ob.BankTransactionCode)
	}
	return slabNew(&a.codes, a.n)
}

func (a *txAlloc) newMerchant() *ob.Merchant {
	if a == nil {
		return new(ob.Merchant)
	}
	return slabNew(&a.merchants, a.n)
}

func (a *txAlloc) newTime() *time.Time {
	if a == nil {
		return new(time.Time)
	}
	return slabNew(&a.times, a.n)
}

func (d *partsDec) field() string {
	i := strings.IndexByte(d.s, ':')
	if i <= 0 || i > 10 || (d.s[0] == '0' && i > 1) {
		d.bad = true
		return ""
	}
	n := 0
	for _, c := range []byte(d.s[:i]) {
		if c < '0' || c > '9' {
			d.bad = true
			return ""
		}
		n = n*10 + int(c-'0')
	}
	if n > len(d.s)-i-1 {
		d.bad = true
		return ""
	}
	v := d.s[i+1 : i+1+n]
	d.s = d.s[i+1+n:]
	return v
}

// count reads a decimal count field; "" is -1 (nil).
func (d *partsDec) count() int {
	f := d.field()
	if f == "" {
		return -1
	}
	n, err := strconv.Atoi(f)
	if err != nil || n < 0 || n > len(d.s) || strconv.Itoa(n) != f {
		d.bad = true
		return -1
	}
	return n
}

func (d *partsDec) list() []string {
	n := d.count()
	if n < 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = d.field()
	}
	return out
}

// parseCanonicalInt parses s if it is exactly what strconv.FormatInt writes
// (no '+', no leading zeros, no "-0"), without allocating.
func parseCanonicalInt(s string) (int64, bool) {
	digits := strings.TrimPrefix(s, "-")
	if digits == "" || digits[0] == '0' && (len(digits) > 1 || len(digits) < len(s)) || digits[0] == '+' {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// micros reads an optional time; "" is nil.
func (d *partsDec) micros() *time.Time {
	f := d.field()
	if f == "" {
		return nil
	}
	n, ok := parseCanonicalInt(f)
	if !ok {
		d.bad = true
		return nil
	}
	t := d.a.newTime()
	*t = fromMicros(n)
	return t
}

func (d *partsDec) money() *ob.Money {
	minor, ccy := d.field(), d.field()
	n, ok := parseCanonicalInt(minor)
	if !ok {
		d.bad = true
	}
	m := d.a.newMoney()
	*m = ob.Money{Minor: n, Currency: ccy}
	return m
}

func (d *partsDec) agent() *ob.Agent {
	a := &ob.Agent{SchemeName: d.field(), Identification: d.field(), Name: d.field()}
	switch d.field() {
	case "":
	case "1":
		a.PostalAddress = &ob.PostalAddress{AddressType: d.field(), Department: d.field(), SubDepartment: d.field(),
			StreetName: d.field(), BuildingNumber: d.field(), PostCode: d.field(), TownName: d.field(),
			CountrySubDivision: d.field(), Country: d.field(), AddressLines: d.list()}
	default:
		d.bad = true
	}
	return a
}

func (d *partsDec) account() *ob.AccountIdentification {
	return &ob.AccountIdentification{SchemeName: d.field(), Identification: d.field(), Name: d.field(),
		SecondaryIdentification: d.field()}
}

// decodeTxParts sets the parts of t that s encodes. It is strict: anything
// encodeTxParts cannot have written is an error.
func decodeTxParts(s string, t *ob.Transaction) error {
	return decodeTxPartsAlloc(s, t, nil)
}

// decodeTxPartsAlloc is decodeTxParts taking the parts from a (nil: new
// ones).
func decodeTxPartsAlloc(s string, t *ob.Transaction, a *txAlloc) error {
	d := partsDec{s: s, a: a}
	t.Reference, t.Status, t.Mutability = d.field(), d.field(), d.field()
	t.ValueDateTime = d.micros()
	t.Information, t.AddressLine, t.Amount.Currency, t.Category = d.field(), d.field(), d.field(), d.field()
	last := -1
	for d.s != "" && !d.bad {
		tag := strings.IndexByte(txPartTags, d.s[0])
		if tag <= last {
			return errTxParts
		}
		last, d.s = tag, d.s[1:]
		switch txPartTags[tag] {
		case 'S':
			if t.StatementReferences = d.list(); t.StatementReferences == nil {
				d.bad = true // encodeTxParts writes no group for nil
			}
		case 'B':
			c := a.newCode()
			*c = ob.BankTransactionCode{Code: d.field(), SubCode: d.field()}
			t.BankTransactionCode = c
		case 'P':
			t.ProprietaryBankTransactionCode = &ob.ProprietaryCode{Code: d.field(), Issuer: d.field()}
		case 'G':
			t.ChargeAmount = d.money()
		case 'A':
			t.BalanceAfter = d.money()
		case 'M':
			m := a.newMerchant()
			*m = ob.Merchant{Name: d.field(), CategoryCode: d.field()}
			t.Merchant = m
		case 'C':
			t.Card = &ob.CardInstrument{SchemeName: d.field(), AuthorisationType: d.field(), Name: d.field(),
				Identification: d.field()}
		case 'R':
			t.CreditorAgent = d.agent()
		case 'r':
			t.CreditorAccount = d.account()
		case 'D':
			t.DebtorAgent = d.agent()
		case 'd':
			t.DebtorAccount = d.account()
		}
	}
	if d.bad {
		return errTxParts
	}
	return nil
}
