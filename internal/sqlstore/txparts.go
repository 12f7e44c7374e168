package sqlstore

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/obank/obank/ob"
	"github.com/obank/obank/payments"
)

// The rec column of transactions holds the whole transaction, in one
// compact, exact text encoding: the record. account_id, id, booking_time and
// amount_minor (and seq) are also columns of their own, for the clustering
// key and the filters, but a page reads rec alone. One column instead of a
// dozen, and no JSON, matters on the hot path: with modernc.org/sqlite every
// column fetched costs calls into the SQLite engine, an allocation for its
// text and one for boxing it, and a page reads 100 rows. A record is a
// field (below) holding
//
//	AccountId TransactionId BookingDateTime Amount.Minor parts
//
// so records concatenate into a stream that splits again without a
// separator: a page is read as one string_agg of its records, a single value
// from the engine (see transactionPage). Decoding shares the string: the
// strings of decoded transactions cost nothing more.
//
// The parts are every other part of a transaction. Their encoding is a
// fixed head of fields, then a sequence of groups, each
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
// For example, parts "3:Ref6:Booked9:Immutable0:4:Info0:3:GBP0:B5:Code7:SubCodeA5:-12503:GBP"
// of transaction t-1 of account a, booked at 1700000000000000 for -1250,
// make the record "104:1:a3:t-116:17000000000000005:-1250" followed by them
// (104 is the length of the body, parts included).
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

// encodeTxParts returns the parts encoding of t.
func encodeTxParts(t *ob.Transaction) string {
	return string(appendTxParts(make(partsEnc, 0, 128), t))
}

// appendTxParts appends the parts encoding of t to b.
func appendTxParts(b partsEnc, t *ob.Transaction) partsEnc {
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
	return b
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
	// scratch, when set, hands out its own parts instead of slabs, the
	// same ones for every record it decodes (moneyUsed counts the record's
	// amounts): nothing is re-pointed from one record to the next.
	scratch   *txScratch
	moneyUsed int
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
	switch {
	case a == nil:
		return new(ob.Money)
	case a.scratch != nil:
		a.moneyUsed++ // at most two: ChargeAmount, BalanceAfter
		return &a.scratch.money[a.moneyUsed-1]
	}
	return slabNew(&a.money, a.n)
}

func (a *txAlloc) newCode() *ob.BankTransactionCode {
	switch {
	case a == nil:
		return new(ob.BankTransactionCode)
	case a.scratch != nil:
		return &a.scratch.codes[0]
	}
	return slabNew(&a.codes, a.n)
}

func (a *txAlloc) newMerchant() *ob.Merchant {
	switch {
	case a == nil:
		return new(ob.Merchant)
	case a.scratch != nil:
		return &a.scratch.merchants[0]
	}
	return slabNew(&a.merchants, a.n)
}

func (a *txAlloc) newTime() *time.Time {
	switch {
	case a == nil:
		return new(time.Time)
	case a.scratch != nil:
		return &a.scratch.times[0]
	}
	return slabNew(&a.times, a.n)
}

// setPtr stores v in *p unless it is there already. A transaction decoded
// over the record before it (txScratch) mostly finds its parts' pointers
// as they were, and while the GC runs a pointer stored costs a write
// barrier where a comparison costs nothing.
func setPtr[T any](p **T, v *T) {
	if *p != v {
		*p = v
	}
}

func (d *partsDec) field() string {
	s := d.s
	// Nearly every field is shorter than 100 bytes: one- and two-digit
	// lengths are read without fieldLoop, which was the largest part of
	// decoding a page. The rules are fieldLoop's.
	if len(s) >= 2 {
		if c0 := s[0] - '0'; c0 <= 9 {
			if s[1] == ':' {
				if n := int(c0); n <= len(s)-2 {
					d.s = s[2+n:]
					return s[2 : 2+n]
				}
				d.bad = true
				return ""
			}
			if c1 := s[1] - '0'; c0 != 0 && c1 <= 9 && len(s) >= 3 && s[2] == ':' {
				if n := int(c0)*10 + int(c1); n <= len(s)-3 {
					d.s = s[3+n:]
					return s[3 : 3+n]
				}
				d.bad = true
				return ""
			}
		}
	}
	return d.fieldLoop()
}

// fieldLoop is field for any length: at most 10 digits, no leading zero,
// then ':'. Reading it byte by byte beats a search for ':' on the short
// lengths there are.
func (d *partsDec) fieldLoop() string {
	s, n, i := d.s, 0, 0
	for ; i < len(s) && i <= 10; i++ {
		c := s[i]
		if c == ':' {
			break
		}
		if c < '0' || c > '9' {
			d.bad = true
			return ""
		}
		n = n*10 + int(c-'0')
	}
	if i == 0 || i > 10 || i == len(s) || (s[0] == '0' && i > 1) || n > len(s)-i-1 {
		d.bad = true
		return ""
	}
	v := s[i+1 : i+1+n]
	d.s = s[i+1+n:]
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
	neg := s != "" && s[0] == '-'
	digits := s
	if neg {
		digits = s[1:]
	}
	// 19 digits hold every int64 and fit a uint64 unchecked.
	if digits == "" || len(digits) > 19 || digits[0] == '0' && (len(digits) > 1 || neg) {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	switch {
	case neg && n <= 1<<63:
		return -int64(n), true // 1<<63 wraps to math.MinInt64, as it should
	case !neg && n < 1<<63:
		return int64(n), true
	}
	return 0, false
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
	setPtr(&t.ValueDateTime, d.micros())
	t.Information, t.AddressLine, t.Amount.Currency, t.Category = d.field(), d.field(), d.field(), d.field()
	last, seen := -1, 0
	for d.s != "" && !d.bad {
		tag := strings.IndexByte(txPartTags, d.s[0])
		if tag <= last {
			return errTxParts
		}
		last, d.s, seen = tag, d.s[1:], seen|1<<tag
		switch txPartTags[tag] {
		case 'S':
			if t.StatementReferences = d.list(); t.StatementReferences == nil {
				d.bad = true // encodeTxParts writes no group for nil
			}
		case 'B':
			c := a.newCode()
			*c = ob.BankTransactionCode{Code: d.field(), SubCode: d.field()}
			setPtr(&t.BankTransactionCode, c)
		case 'P':
			t.ProprietaryBankTransactionCode = &ob.ProprietaryCode{Code: d.field(), Issuer: d.field()}
		case 'G':
			setPtr(&t.ChargeAmount, d.money())
		case 'A':
			setPtr(&t.BalanceAfter, d.money())
		case 'M':
			m := a.newMerchant()
			*m = ob.Merchant{Name: d.field(), CategoryCode: d.field()}
			setPtr(&t.Merchant, m)
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
	// The groups the record has not are cleared, for a t that held the
	// record before it (txScratch); they are nil already in a new one.
	if seen&groupBit['S'] == 0 && t.StatementReferences != nil {
		t.StatementReferences = nil
	}
	unsetGroup(seen, 'B', &t.BankTransactionCode)
	unsetGroup(seen, 'P', &t.ProprietaryBankTransactionCode)
	unsetGroup(seen, 'G', &t.ChargeAmount)
	unsetGroup(seen, 'A', &t.BalanceAfter)
	unsetGroup(seen, 'M', &t.Merchant)
	unsetGroup(seen, 'C', &t.Card)
	unsetGroup(seen, 'R', &t.CreditorAgent)
	unsetGroup(seen, 'r', &t.CreditorAccount)
	unsetGroup(seen, 'D', &t.DebtorAgent)
	unsetGroup(seen, 'd', &t.DebtorAccount)
	return nil
}

// groupBit is each group tag's bit in decodeTxPartsAlloc's set of the
// groups a record has: 1 << its index in txPartTags.
var groupBit = func() (bits [128]int) {
	for i := range len(txPartTags) {
		bits[txPartTags[i]] = 1 << i
	}
	return bits
}()

// unsetGroup clears *p, the part of group tag, when the record had no such
// group (as setPtr, only if it is set).
func unsetGroup[T any](seen int, tag byte, p **T) {
	if seen&groupBit[tag] == 0 && *p != nil {
		*p = nil
	}
}

// encodeTxRecord returns the rec column's value for t.
func encodeTxRecord(t *ob.Transaction) string {
	body := make(partsEnc, 0, 192)
	body.fields(t.AccountID, t.ID)
	body.field(strconv.FormatInt(micros(t.BookingDateTime), 10))
	body.field(strconv.FormatInt(t.Amount.Minor, 10))
	body = appendTxParts(body, t)
	// A record whose bytes are all plain text (ob.PlainText) holds only
	// plain text fields, and says so with plainMark before its body: a page
	// of them is then encoded without looking at each byte again. Length
	// prefixes start with a digit, so the mark cannot be mistaken for one;
	// records stored without it (before it existed) are simply not known to
	// be plain.
	if ob.PlainText(string(body)) {
		body = append(partsEnc{plainMark}, body...)
	}
	b := make(partsEnc, 0, len(body)+8)
	b.field(string(body))
	return string(b)
}

// encodeRiskRecord returns the risk column of a transaction: for a debit,
// a record (length-prefixed, so that a run of them concatenated splits like
// rec values) of its booking time, amount, currency and creditor account;
// for anything else nil (NULL).
func encodeRiskRecord(t *ob.Transaction) any {
	if t.Amount.Minor >= 0 {
		return nil
	}
	body := make(partsEnc, 0, 64)
	body.field(strconv.FormatInt(micros(t.BookingDateTime), 10))
	body.field(strconv.FormatInt(t.Amount.Minor, 10))
	body.field(t.Amount.Currency)
	if c := t.CreditorAccount; c != nil {
		body.fields(c.SchemeName, c.Identification)
	} else {
		body.fields("", "")
	}
	b := make(partsEnc, 0, len(body)+4)
	b.field(string(body))
	return string(b)
}

// decodeRiskRecords appends the debits of a run of risk records to ds.
func decodeRiskRecords(s string, ds []payments.PastDebit) ([]payments.PastDebit, error) {
	d := partsDec{s: s}
	for d.s != "" {
		r := partsDec{s: d.field()}
		booking, ok1 := parseCanonicalInt(r.field())
		minor, ok2 := parseCanonicalInt(r.field())
		currency, scheme, id := r.field(), r.field(), r.field()
		if d.bad || r.bad || !ok1 || !ok2 || r.s != "" {
			return ds, errTxParts
		}
		ds = append(ds, payments.PastDebit{At: fromMicros(booking), Amount: ob.Money{Minor: minor, Currency: currency},
			CreditorScheme: scheme, CreditorIdentification: id})
	}
	return ds, nil
}

// plainMark starts the body of a record whose bytes are all plain text.
const plainMark = '='

// cutPlainMark returns a record body without its plain-text mark, and
// whether it had one.
func cutPlainMark(body string) (string, bool) {
	if body != "" && body[0] == plainMark {
		return body[1:], true
	}
	return body, false
}

// decodeTxRecords decodes a stream of records, the concatenation of rec
// values, appending to txs, whose spare capacity must be zero values (as
// make leaves it); the parts come from a (nil: new ones). It is as strict as
// decodeTxParts.
func decodeTxRecords(s string, txs []ob.Transaction, a *txAlloc) ([]ob.Transaction, error) {
	d := partsDec{s: s}
	for d.s != "" {
		rec := d.field()
		if d.bad {
			return txs, errTxParts
		}
		// Decode in place: a Transaction is large, and copying or zeroing
		// one in the slice costs write barriers for each of its pointers
		// while the GC runs, which it often does under load.
		if len(txs) < cap(txs) {
			txs = txs[:len(txs)+1]
		} else {
			txs = append(txs, ob.Transaction{})
		}
		if err := decodeTxRecord(rec, &txs[len(txs)-1], a); err != nil {
			return txs, err
		}
	}
	return txs, nil
}

// decodeTxRecord decodes the body of one record (a rec value without its
// length prefix) into t, which must be the zero value.
func decodeTxRecord(rec string, t *ob.Transaction, a *txAlloc) error {
	rec, _ = cutPlainMark(rec)
	r := partsDec{s: rec}
	t.AccountID, t.ID = r.field(), r.field()
	booking, ok := parseCanonicalInt(r.field())
	if r.bad || !ok {
		return errTxParts
	}
	t.BookingDateTime = fromMicros(booking)
	return decodeTxRest(r.s, t, a)
}

// decodeTxRest decodes what follows a record's booking time (the amount,
// then the parts) into t, whose AccountID, ID and BookingDateTime are set.
func decodeTxRest(rest string, t *ob.Transaction, a *txAlloc) error {
	r := partsDec{s: rest}
	minor, ok := parseCanonicalInt(r.field())
	if r.bad || !ok {
		return errTxParts
	}
	t.Amount.Minor = minor
	if err := decodeTxPartsAlloc(r.s, t, a); err != nil {
		return fmt.Errorf("transaction %s: %w", t.ID, err)
	}
	return nil
}

// txRecord is one record of a page with its position in the listing order,
// read from its head alone.
type txRecord struct {
	id      string
	booking int64 // unix microseconds
	// account and rest are the head's account id and what follows its
	// booking time, and plain the record's mark: decodeSplit starts there
	// instead of reading the head again.
	account, rest string
	plain         bool
}

// splitTxRecords splits a stream of records into recs (reusing its backing
// array), reading only their keys: the listing order can be checked, and
// the page put in order, before any record is decoded.
func splitTxRecords(s string, recs []txRecord) ([]txRecord, error) {
	recs = recs[:0]
	d := partsDec{s: s}
	for d.s != "" {
		body := d.field()
		head, plain := cutPlainMark(body)
		r := partsDec{s: head}
		account, id := r.field(), r.field()
		booking, ok := parseCanonicalInt(r.field())
		if d.bad || r.bad || !ok {
			return recs, errTxParts
		}
		recs = append(recs, txRecord{id: id, booking: booking, account: account, rest: r.s, plain: plain})
	}
	return recs, nil
}

// txScratch is the transaction ScanTransactions decodes every record of a
// page into, with room for its common parts, so that a page decodes
// without allocating them. The rarer parts (card, counterparties,
// proprietary code) are allocated.
type txScratch struct {
	t         ob.Transaction
	money     [2]ob.Money // ChargeAmount, BalanceAfter
	codes     [1]ob.BankTransactionCode
	merchants [1]ob.Merchant
	times     [1]time.Time // ValueDateTime
	// a hands out the parts above; it lives here because a txAlloc on
	// the stack escapes, which cost an allocation per row.
	a txAlloc
}

// decode decodes the record body rec into s.t, reusing s's parts, and
// reports whether the record is marked plain text.
func (s *txScratch) decode(rec string) (*ob.Transaction, bool, error) {
	s.reset()
	_, plain := cutPlainMark(rec)
	if err := decodeTxRecord(rec, &s.t, &s.a); err != nil {
		return nil, false, err
	}
	return &s.t, plain, nil
}

// decodeSplit is decode for a record splitTxRecords has read the head of:
// the same transaction, without reading the head twice.
func (s *txScratch) decodeSplit(r *txRecord) (*ob.Transaction, bool, error) {
	s.reset()
	s.t.AccountID, s.t.ID, s.t.BookingDateTime = r.account, r.id, fromMicros(r.booking)
	if err := decodeTxRest(r.rest, &s.t, &s.a); err != nil {
		return nil, false, err
	}
	return &s.t, r.plain, nil
}

// reset prepares s for the next record. s.t is not emptied: the decoders
// set or clear every field of it (decodeTxPartsAlloc clears the groups a
// record has not), which costs far fewer write barriers, while the GC
// runs, than zeroing the whole transaction for each record.
func (s *txScratch) reset() {
	if s.a.scratch == nil {
		s.a = txAlloc{scratch: s}
	}
	s.a.moneyUsed = 0
}
