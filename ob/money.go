package ob

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/cockroachdb/apd/v3"
)

// Money is an exact amount in integer minor units of its currency (pence for
// GBP, cents for EUR, yen for JPY). Minor is signed: positive is a credit to
// the account holder, negative a debit. There is no float anywhere on the
// money path.
type Money struct {
	Minor    int64
	Currency string
}

// currencyExponent is ISO 4217's minor-unit exponent for the currencies that
// differ from the default of 2.
var currencyExponent = map[string]int{
	"BHD": 3, "CLP": 0, "IQD": 3, "ISK": 0, "JOD": 3, "JPY": 0, "KRW": 0,
	"KWD": 3, "LYD": 3, "OMR": 3, "TND": 3, "UGX": 0, "VND": 0, "XAF": 0, "XOF": 0,
}

// CurrencyExponent returns the number of minor-unit digits of a currency.
func CurrencyExponent(currency string) int {
	if e, ok := currencyExponent[currency]; ok {
		return e
	}
	return 2
}

var (
	currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)
	// amountPattern is OBIE's OBActiveCurrencyAndAmount_SimpleType pattern.
	amountPattern = regexp.MustCompile(`^\d{1,13}$|^\d{1,13}\.\d{1,5}$`)
)

// ValidCurrency reports whether s has the shape of an ISO 4217 code.
func ValidCurrency(s string) bool { return currencyPattern.MatchString(s) }

// ParseAmount parses an OBIE amount string (unsigned, up to 13 integer and 5
// fraction digits) in the given currency. It refuses amounts that cannot be
// represented exactly in the currency's minor units ("10.001" GBP): a bank
// cannot move a fraction of a penny, and rounding a customer's money silently
// is worse than refusing it.
func ParseAmount(s, currency string) (Money, error) {
	if !amountPattern.MatchString(s) {
		return Money{}, fmt.Errorf("amount %q does not match the OBIE amount pattern", s)
	}
	if !ValidCurrency(currency) {
		return Money{}, fmt.Errorf("currency %q is not an ISO 4217 code", currency)
	}
	d, _, err := apd.NewFromString(s)
	if err != nil {
		return Money{}, fmt.Errorf("amount %q: %w", s, err)
	}
	exp := CurrencyExponent(currency)
	var scaled apd.Decimal
	ctx := apd.BaseContext.WithPrecision(40)
	ctx.Traps = apd.DefaultTraps | apd.Inexact
	if _, err := ctx.Quantize(&scaled, d, -int32(exp)); err != nil {
		return Money{}, fmt.Errorf("amount %q has more decimal places than %s allows (%d)", s, currency, exp)
	}
	minor, err := strconv.ParseInt(scaled.Coeff.String(), 10, 64)
	if err != nil {
		return Money{}, fmt.Errorf("amount %q is too large", s)
	}
	return Money{Minor: minor, Currency: currency}, nil
}

// MustParseAmount is ParseAmount for literals in code and tests; it panics on
// a malformed amount.
func MustParseAmount(s, currency string) Money {
	m, err := ParseAmount(s, currency)
	if err != nil {
		panic(err)
	}
	return m
}

// Abs returns the amount without its sign.
func (m Money) Abs() Money {
	if m.Minor < 0 {
		m.Minor = -m.Minor
	}
	return m
}

// Neg returns the amount with its sign flipped.
func (m Money) Neg() Money { m.Minor = -m.Minor; return m }

// IsCredit reports whether the amount is a credit (zero counts as credit, as
// OBIE balances of zero are reported with CreditDebitIndicator Credit).
func (m Money) IsCredit() bool { return m.Minor >= 0 }

// Add returns m+o. It panics if the currencies differ: adding pounds to euros
// is a programming error, not a runtime condition.
func (m Money) Add(o Money) Money {
	if m.Currency != o.Currency {
		panic(fmt.Sprintf("ob: adding %s to %s", o.Currency, m.Currency))
	}
	return Money{Minor: m.Minor + o.Minor, Currency: m.Currency}
}

// AmountString formats the unsigned amount the way OBIE puts it on the wire:
// the currency's minor digits after the point ("1234.50", "-" never appears).
func (m Money) AmountString() string {
	v := m.Minor
	if v < 0 {
		v = -v
	}
	exp := CurrencyExponent(m.Currency)
	digits := strconv.FormatInt(v, 10)
	if exp == 0 {
		return digits
	}
	if len(digits) <= exp {
		digits = strings.Repeat("0", exp-len(digits)+1) + digits
	}
	return digits[:len(digits)-exp] + "." + digits[len(digits)-exp:]
}

// String formats the signed amount with its currency, for logs and pages.
func (m Money) String() string {
	sign := ""
	if m.Minor < 0 {
		sign = "-"
	}
	return sign + m.AmountString() + " " + m.Currency
}
