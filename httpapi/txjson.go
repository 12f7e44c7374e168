package httpapi

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/obank/obank/ob"
)

// A page of transactions is the largest and hottest AIS response, and
// encoding/json's reflection was a fifth of its cost. txPageWriter
// writes the same bytes json.Marshal would (TestTransactionsJSON holds it to
// that) with a hand-written encoder for OBTransaction6's flat parts; the
// rare nested parts (agents, accounts) and the small Links and Meta still go
// through encoding/json.

var txBufPool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// txEnvelopeHead opens the envelope of a page of transactions; the rows,
// then appendTransactionsTail, follow.
const txEnvelopeHead = `{"Data":{"Transaction":[`

// txPageWriter encodes a page of transactions as the store hands them over
// (ais.Service.ScanTransactions), into a pooled buffer: no slice of the
// page, no wire structs, and the response written at once.
type txPageWriter struct {
	bp   *[]byte
	b    []byte
	ends pageEnds
	exp  exponents
}

func newTxPageWriter() *txPageWriter {
	bp := txBufPool.Get().(*[]byte)
	return &txPageWriter{bp: bp, b: append((*bp)[:0], txEnvelopeHead...)}
}

// add appends t as the page's next row; plain reports that its text needs
// no escaping (ob.TransactionScanner).
func (pw *txPageWriter) add(t *ob.Transaction, plain bool) error {
	if pw.ends.n > 0 {
		pw.b = append(pw.b, ',')
	}
	pw.ends.add(t)
	pw.exp.plain = plain
	b, err := appendTransaction(pw.b, t, &pw.exp)
	if err != nil {
		return err
	}
	pw.b = b
	return nil
}

// write closes the envelope with links and meta and answers 200 with it,
// exactly as writeJSON(w, 200, envelope[obTransactionData]{...}) with the
// rows mapped by transaction would.
func (pw *txPageWriter) write(w http.ResponseWriter, links obLinks, meta obMeta) error {
	b, err := appendTransactionsTail(pw.b, links, meta)
	if err != nil {
		return err
	}
	pw.b = b
	h := w.Header()
	h.Set("Content-Type", contentTypeJSON)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b) // a client that went away is not our error
	return nil
}

// release returns the buffer to the pool; pw is not used after.
func (pw *txPageWriter) release() {
	if cap(pw.b) <= 1<<20 {
		*pw.bp = pw.b[:0]
		txBufPool.Put(pw.bp)
	}
	pw.bp, pw.b = nil, nil
}

// appendTransactionsEnvelope appends the whole envelope of a page of
// transactions, as txPageWriter builds it.
func appendTransactionsEnvelope(b []byte, txs []ob.Transaction, links obLinks, meta obMeta) ([]byte, error) {
	b = append(b, txEnvelopeHead...)
	var err error
	var exp exponents
	for i := range txs {
		if i > 0 {
			b = append(b, ',')
		}
		if b, err = appendTransaction(b, &txs[i], &exp); err != nil {
			return nil, err
		}
	}
	return appendTransactionsTail(b, links, meta)
}

// appendTransactionsTail closes the rows and the envelope, with Links and
// Meta written as json.Marshal writes them (their fields are strings, which
// appendJSONString escapes as it does, and an int).
func appendTransactionsTail(b []byte, links obLinks, meta obMeta) ([]byte, error) {
	b = appendJSONString(append(b, `]},"Links":{"Self":`...), links.Self)
	for _, l := range [...]struct{ key, url string }{
		{`,"First":`, links.First}, {`,"Prev":`, links.Prev}, {`,"Next":`, links.Next}, {`,"Last":`, links.Last},
	} {
		if l.url != "" {
			b = appendJSONString(append(b, l.key...), l.url)
		}
	}
	b = append(b, `},"Meta":{`...)
	sep := ""
	if meta.TotalPages != 0 {
		b = strconv.AppendInt(append(b, `"TotalPages":`...), int64(meta.TotalPages), 10)
		sep = ","
	}
	if meta.FirstAvailableDateTime != "" {
		b = appendJSONString(append(append(b, sep...), `"FirstAvailableDateTime":`...), meta.FirstAvailableDateTime)
		sep = ","
	}
	if meta.LastAvailableDateTime != "" {
		b = appendJSONString(append(append(b, sep...), `"LastAvailableDateTime":`...), meta.LastAvailableDateTime)
	}
	return append(b, `}}`...), nil
}

func appendMarshal(b []byte, v any) ([]byte, error) {
	j, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, j...), nil
}

// appendJSONString appends s as encoding/json quotes it. Plain text
// (ob.PlainText), which is nearly all of it, is copied as it is; anything
// else (quotes, backslashes, HTML characters, control characters,
// non-ASCII) goes through encoding/json.
func appendJSONString(b []byte, s string) []byte {
	if !ob.PlainText(s) {
		j, _ := json.Marshal(s) // a string always encodes
		return append(b, j...)
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendJSONTime appends t as formatTime formats it, quoted. Years 0 to
// 9999, all of them in practice, are written by hand from the Unix time:
// AppendFormat, and then Date and Clock, were the largest part of writing a
// row.
func appendJSONTime(b []byte, t time.Time) []byte {
	return appendJSONTimeDay(b, t, nil)
}

// lastDay is the last date appendJSONTimeDay wrote: the rows of a page are
// in time order, so most share the date of the row before.
type lastDay struct {
	days int64 // since 1970-01-01
	text [10]byte
	set  bool
}

// appendJSONTimeDay is appendJSONTime, taking the date from last (when not
// nil) if t falls on the same day, and leaving t's there.
func appendJSONTimeDay(b []byte, t time.Time, last *lastDay) []byte {
	if t.IsZero() {
		return append(b, `""`...)
	}
	secs := t.Unix()
	days, sod := secs/86400, secs%86400
	if sod < 0 {
		days, sod = days-1, sod+86400
	}
	b = append(b, '"')
	if last != nil && last.set && last.days == days {
		b = append(b, last.text[:]...)
	} else {
		year, month, day := civilDate(days)
		if year < 0 || year > 9999 {
			b = t.UTC().AppendFormat(b, responseTimeLayout)
			return append(b, '"')
		}
		start := len(b)
		b = append2(append2(b, int(year/100)), int(year%100))
		b = append2(append(b, '-'), month)
		b = append2(append(b, '-'), day)
		if last != nil {
			last.days, last.set = days, true
			copy(last.text[:], b[start:])
		}
	}
	b = append2(append(b, 'T'), int(sod/3600))
	b = append2(append(b, ':'), int(sod/60%60))
	b = append2(append(b, ':'), int(sod%60))
	if ns := t.Nanosecond(); ns != 0 {
		// ".999999999": nine digits without the trailing zeros.
		digits := 9
		for ns%10 == 0 {
			ns /= 10
			digits--
		}
		b = appendDigits(append(b, '.'), ns, digits)
	}
	return append(b, `Z"`...)
}

// civilDate returns the proleptic Gregorian date of the day days after
// 1970-01-01 (Howard Hinnant's civil_from_days).
func civilDate(days int64) (year int64, month, day int) {
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097                                  // [0, 146096]
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365 // [0, 399]
	doy := doe - (365*yoe + yoe/4 - yoe/100)               // [0, 365]
	mp := (5*doy + 2) / 153                                // [0, 11], from March
	day = int(doy - (153*mp+2)/5 + 1)
	month = int(mp + 3)
	if month > 12 {
		month -= 12
	}
	year = yoe + era*400
	if month <= 2 {
		year++
	}
	return year, month, day
}

const twoDigits = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879" +
	"8081828384858687888990919293949596979899"

// append2 appends v (0 <= v < 100) in two digits.
func append2(b []byte, v int) []byte {
	return append(b, twoDigits[2*v], twoDigits[2*v+1])
}

// appendDigits appends v (0 <= v < 10^width) in exactly width digits.
func appendDigits(b []byte, v, width int) []byte {
	var buf [9]byte
	for i := width - 1; i >= 0; i-- {
		buf[i] = byte('0' + v%10)
		v /= 10
	}
	return append(b, buf[:width]...)
}

// exponents remembers the minor-unit exponent of the last currency looked
// up: the amounts of a page are nearly always in one currency, so the page
// consults ob.CurrencyExponent's map once instead of once per amount.
//
// It also carries plain: the row being written is known to hold only plain
// text (ob.PlainText), whose strings are then copied without a look at
// each byte.
type exponents struct {
	ccy   string
	exp   int
	known bool
	plain bool
	// day is the page's last date written (appendJSONTimeDay).
	day lastDay
}

// str appends s quoted as encoding/json writes it.
func (e *exponents) str(b []byte, s string) []byte {
	if e.plain {
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	return appendJSONString(b, s)
}

// kv appends key, a member's punctuation, quoted name and the opening quote
// of its value (`,"Name":"` or `"Name":"` for the first), then value and
// its closing quote: one append for all that precedes the value.
func (e *exponents) kv(b []byte, key, value string) []byte {
	if e.plain {
		b = append(b, key...)
		b = append(b, value...)
		return append(b, '"')
	}
	return appendJSONString(append(b, key[:len(key)-1]...), value)
}

func (e *exponents) of(ccy string) int {
	if !e.known || ccy != e.ccy {
		e.ccy, e.exp, e.known = ccy, ob.CurrencyExponent(ccy), true
	}
	return e.exp
}

func appendAmount(b []byte, m ob.Money, ex *exponents) []byte {
	b = appendAmountString(append(b, `{"Amount":`...), m, ex)
	return append(ex.kv(b, `,"Currency":"`, m.Currency), '}')
}

// appendAmountString appends m.AmountString() quoted, without allocating:
// it is digits and a point, which JSON needs no escaping for. The digits
// are written right to left with the point in its place, in one pass.
func appendAmountString(b []byte, m ob.Money, ex *exponents) []byte {
	v, exp := m.Minor, ex.of(m.Currency)
	if v == math.MinInt64 || exp < 0 || exp > 18 {
		return ex.str(b, m.AmountString())
	}
	if v < 0 {
		v = -v
	}
	// At most 19 digits, the point, and "0." before a fraction.
	var buf [24]byte
	i, u := len(buf), uint64(v)
	for pos := 0; ; pos++ {
		i--
		buf[i] = byte('0' + u%10)
		u /= 10
		if pos+1 == exp {
			i--
			buf[i] = '.'
		}
		if u == 0 && pos >= exp {
			break
		}
	}
	b = append(b, '"')
	b = append(b, buf[i:]...)
	return append(b, '"')
}

// appendTransaction appends transaction(*t) as json.Marshal encodes it,
// without building the wire struct.
func appendTransaction(b []byte, t *ob.Transaction, ex *exponents) ([]byte, error) {
	var err error
	b = ex.kv(b, `{"AccountId":"`, t.AccountID)
	if t.ID != "" {
		b = ex.kv(b, `,"TransactionId":"`, t.ID)
	}
	if t.Reference != "" {
		b = ex.kv(b, `,"TransactionReference":"`, t.Reference)
	}
	if len(t.StatementReferences) > 0 {
		b = append(b, `,"StatementReference":[`...)
		for i, s := range t.StatementReferences {
			if i > 0 {
				b = append(b, ',')
			}
			b = ex.str(b, s)
		}
		b = append(b, ']')
	}
	b = ex.kv(b, `,"CreditDebitIndicator":"`, creditDebit(t.Amount))
	b = ex.kv(b, `,"Status":"`, t.Status)
	if t.Mutability != "" {
		b = ex.kv(b, `,"TransactionMutability":"`, t.Mutability)
	}
	b = appendJSONTimeDay(append(b, `,"BookingDateTime":`...), t.BookingDateTime, &ex.day)
	if t.ValueDateTime != nil && !t.ValueDateTime.IsZero() {
		b = appendJSONTimeDay(append(b, `,"ValueDateTime":`...), *t.ValueDateTime, &ex.day)
	}
	if t.Information != "" {
		b = ex.kv(b, `,"TransactionInformation":"`, t.Information)
	}
	if t.AddressLine != "" {
		b = ex.kv(b, `,"AddressLine":"`, t.AddressLine)
	}
	b = appendAmount(append(b, `,"Amount":`...), t.Amount, ex)
	if t.ChargeAmount != nil {
		b = appendAmount(append(b, `,"ChargeAmount":`...), *t.ChargeAmount, ex)
	}
	if c := t.BankTransactionCode; c != nil {
		b = ex.kv(b, `,"BankTransactionCode":{"Code":"`, c.Code)
		b = append(ex.kv(b, `,"SubCode":"`, c.SubCode), '}')
	}
	if c := t.ProprietaryBankTransactionCode; c != nil {
		b = ex.kv(b, `,"ProprietaryBankTransactionCode":{"Code":"`, c.Code)
		if c.Issuer != "" {
			b = ex.kv(b, `,"Issuer":"`, c.Issuer)
		}
		b = append(b, '}')
	}
	if m := t.BalanceAfter; m != nil {
		b = ex.kv(b, `,"Balance":{"CreditDebitIndicator":"`, creditDebit(*m))
		b = ex.kv(b, `,"Type":"`, ob.BalanceInterimBooked)
		b = append(appendAmount(append(b, `,"Amount":`...), *m, ex), '}')
	}
	if m := t.Merchant; m != nil {
		b = append(b, `,"MerchantDetails":{`...)
		first := true
		if m.Name != "" {
			b, first = ex.kv(b, `"MerchantName":"`, m.Name), false
		}
		if m.CategoryCode != "" {
			key := `,"MerchantCategoryCode":"`
			if first {
				key = key[1:]
			}
			b = ex.kv(b, key, m.CategoryCode)
		}
		b = append(b, '}')
	}
	// The counterparties are rare: encoding/json does them.
	if t.CreditorAgent != nil {
		if b, err = appendMarshal(append(b, `,"CreditorAgent":`...), agent6(t.CreditorAgent)); err != nil {
			return nil, err
		}
	}
	if t.CreditorAccount != nil {
		if b, err = appendMarshal(append(b, `,"CreditorAccount":`...), cashAccountPtr(t.CreditorAccount)); err != nil {
			return nil, err
		}
	}
	if t.DebtorAgent != nil {
		if b, err = appendMarshal(append(b, `,"DebtorAgent":`...), agent6(t.DebtorAgent)); err != nil {
			return nil, err
		}
	}
	if t.DebtorAccount != nil {
		if b, err = appendMarshal(append(b, `,"DebtorAccount":`...), cashAccountPtr(t.DebtorAccount)); err != nil {
			return nil, err
		}
	}
	if c := t.Card; c != nil {
		b = ex.kv(b, `,"CardInstrument":{"CardSchemeName":"`, c.SchemeName)
		if c.AuthorisationType != "" {
			b = ex.kv(b, `,"AuthorisationType":"`, c.AuthorisationType)
		}
		if c.Name != "" {
			b = ex.kv(b, `,"Name":"`, c.Name)
		}
		if c.Identification != "" {
			b = ex.kv(b, `,"Identification":"`, c.Identification)
		}
		b = append(b, '}')
	}
	if t.Category != "" {
		b = append(ex.kv(b, `,"SupplementaryData":{"Category":"`, t.Category), '}')
	}
	return append(b, '}'), nil
}
