// Package payments is the payment-initiation domain: the Initiation of a
// domestic, domestic-scheduled and domestic-standing-order consent, its
// validation against the OBIE v3.1 payment-initiation contract and the bank's
// documented limits, the exact comparison that decides
// UK.OBIE.Resource.ConsentMismatch, and OBIE frequency expressions with
// their execution schedule.
//
// It is pure: no net/http, no database/sql, no clock (callers pass now). A
// test fails if it ever imports transport or storage.
//
// # Error codes (decisions)
//
// Validate returns the first problem found, in field order, as an *ob.Error
// whose Path is the JSON path in the request (Data.Initiation....):
//
//   - a required field absent or empty: UK.OBIE.Field.Missing;
//   - a field too long, malformed, with control characters or invalid
//     UTF-8, an amount that is zero, does not match the OBIE amount pattern
//     or is not exact in the currency's minor units: UK.OBIE.Field.Invalid;
//   - an amount above the bank's maximum per payment: UK.OBIE.Field.Invalid.
//     The standard has no limit code (UK.OBIE.Rules.FailsControlParameters
//     is VRP-only); the message names the limit;
//   - a well-formed currency outside the whitelist: UK.OBIE.Unsupported.Currency;
//   - a scheme other than UK.OBIE.SortCodeAccountNumber and UK.OBIE.IBAN
//     (legacy un-namespaced "SortCodeAccountNumber" and "IBAN" are accepted
//     as those): UK.OBIE.Unsupported.Scheme;
//   - an identification that is malformed for its scheme (not 14 digits,
//     IBAN failing the ISO 13616 length or mod-97 check): UK.OBIE.Field.Invalid,
//     because the value is wrong, not unsupported; a valid IBAN of a country
//     outside Limits.IBANCountries (when set): UK.OBIE.Unsupported.AccountIdentifier;
//   - a LocalInstrument outside OBExternalLocalInstrument1Code or outside
//     Limits.LocalInstruments: UK.OBIE.Unsupported.LocalInstrument;
//   - a frequency that does not match the spec's pattern: UK.OBIE.Unsupported.Frequency;
//   - a date in the past or beyond Limits.MaxHorizon, or standing-order
//     dates out of order: UK.OBIE.Field.InvalidDate;
//   - a field that makes no sense with another (NumberOfPayments together
//     with FinalPaymentDateTime, a FinalPaymentAmount on an open-ended
//     standing order): UK.OBIE.Field.Unexpected.
package payments

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/obank/obank/ob"
)

// Local instruments of OBExternalLocalInstrument1Code (payment-initiation-openapi.yaml).
const (
	InstrumentBACS                      = "UK.OBIE.BACS"
	InstrumentBalanceTransfer           = "UK.OBIE.BalanceTransfer"
	InstrumentCHAPS                     = "UK.OBIE.CHAPS"
	InstrumentEuro1                     = "UK.OBIE.Euro1"
	InstrumentFPS                       = "UK.OBIE.FPS"
	InstrumentLink                      = "UK.OBIE.Link"
	InstrumentMoneyTransfer             = "UK.OBIE.MoneyTransfer"
	InstrumentPaym                      = "UK.OBIE.Paym"
	InstrumentSEPACreditTransfer        = "UK.OBIE.SEPACreditTransfer"
	InstrumentSEPAInstantCreditTransfer = "UK.OBIE.SEPAInstantCreditTransfer"
	InstrumentSWIFT                     = "UK.OBIE.SWIFT"
	InstrumentTarget2                   = "UK.OBIE.Target2"
)

// LocalInstruments is the spec's full list, in its order.
var LocalInstruments = []string{
	InstrumentBACS, InstrumentBalanceTransfer, InstrumentCHAPS, InstrumentEuro1,
	InstrumentFPS, InstrumentLink, InstrumentMoneyTransfer, InstrumentPaym,
	InstrumentSEPACreditTransfer, InstrumentSEPAInstantCreditTransfer,
	InstrumentSWIFT, InstrumentTarget2,
}

// Field lengths from payment-initiation-openapi.yaml.
const (
	MaxInstructionIdentification = 35
	MaxEndToEndIdentification    = 35
	MaxReference                 = 35 // RemittanceInformation.Reference and standing-order Reference
	MaxUnstructured              = 140
	MaxAccountIdentification     = 256 // Identification_0
	MaxAccountName               = 350
	MaxSecondaryIdentification   = 34
	MaxNumberOfPayments          = 35
	MaxAddressLine               = 70
	MaxAddressLines              = 7
)

// Limits is the bank's documented payment policy. The zero value is not
// useful; start from DefaultLimits.
type Limits struct {
	// MaxAmount is the maximum per payment, a decimal amount applied in the
	// payment's own currency ("50000" = 50,000.00 GBP, 50,000.00 EUR, ...).
	MaxAmount string
	// MaxAmountByCurrency overrides MaxAmount for some currencies.
	MaxAmountByCurrency map[string]string
	// Currencies is the whitelist of payment currencies.
	Currencies []string
	// LocalInstruments is the subset of the spec's list the bank accepts;
	// nil means the whole list.
	LocalInstruments []string
	// IBANCountries, when non-empty, restricts IBAN identifications to these
	// country prefixes (others → UK.OBIE.Unsupported.AccountIdentifier).
	IBANCountries []string
	// MaxHorizon is how far in the future a scheduled execution or the first
	// standing-order payment may be.
	MaxHorizon time.Duration
	// MaxNumberOfPayments caps a standing order's NumberOfPayments.
	MaxNumberOfPayments int
}

// DefaultLimits: 50,000 per payment in the payment currency; GBP, EUR and
// USD; every local instrument; any IBAN country; one year ahead; at most
// 1,000 standing-order payments.
func DefaultLimits() Limits {
	return Limits{
		MaxAmount:           "50000",
		Currencies:          []string{"GBP", "EUR", "USD"},
		MaxHorizon:          366 * 24 * time.Hour,
		MaxNumberOfPayments: 1000,
	}
}

// MaxFor returns the maximum per payment in a currency.
func (l Limits) MaxFor(currency string) (ob.Money, error) {
	s := l.MaxAmount
	if v, ok := l.MaxAmountByCurrency[currency]; ok {
		s = v
	}
	if s == "" {
		return ob.Money{}, fmt.Errorf("payments: no maximum amount configured for %s", currency)
	}
	return ob.ParseAmount(s, currency)
}

// Amount is OBActiveOrHistoricCurrencyAndAmount as it is written on the wire.
type Amount struct {
	Amount   string `json:"Amount"`
	Currency string `json:"Currency"`
}

// Money parses the amount exactly in its currency's minor units.
func (a Amount) Money() (ob.Money, error) { return ob.ParseAmount(a.Amount, a.Currency) }

// Account is OBCashAccountDebtor4 / OBCashAccountCreditor3.
type Account struct {
	SchemeName              string `json:"SchemeName"`
	Identification          string `json:"Identification"`
	Name                    string `json:"Name,omitempty"`
	SecondaryIdentification string `json:"SecondaryIdentification,omitempty"`
}

// PayeeKey is a stable key for the account (normalised scheme and
// identification), the key risk.History.KnownPayees is indexed by.
func (a Account) PayeeKey() string {
	return NormaliseScheme(a.SchemeName) + ":" + strings.ToUpper(a.Identification)
}

// RemittanceInformation is OBRemittanceInformation1.
type RemittanceInformation struct {
	Unstructured string `json:"Unstructured,omitempty"`
	Reference    string `json:"Reference,omitempty"`
}

// PostalAddress is OBPostalAddress6.
type PostalAddress = ob.PostalAddress

// Initiation is the Initiation of a domestic payment consent
// (OBWriteDomesticConsent4) and of the domestic payment that consumes it.
type Initiation struct {
	InstructionIdentification string                 `json:"InstructionIdentification"`
	EndToEndIdentification    string                 `json:"EndToEndIdentification"`
	LocalInstrument           string                 `json:"LocalInstrument,omitempty"`
	InstructedAmount          Amount                 `json:"InstructedAmount"`
	DebtorAccount             *Account               `json:"DebtorAccount,omitempty"`
	CreditorAccount           Account                `json:"CreditorAccount"`
	CreditorPostalAddress     *PostalAddress         `json:"CreditorPostalAddress,omitempty"`
	RemittanceInformation     *RemittanceInformation `json:"RemittanceInformation,omitempty"`
}

// ScheduledInitiation is the Initiation of OBWriteDomesticScheduledConsent4:
// the domestic one plus RequestedExecutionDateTime. EndToEndIdentification
// is optional here (it is required for immediate payments).
type ScheduledInitiation struct {
	InstructionIdentification  string                 `json:"InstructionIdentification"`
	EndToEndIdentification     string                 `json:"EndToEndIdentification,omitempty"`
	LocalInstrument            string                 `json:"LocalInstrument,omitempty"`
	RequestedExecutionDateTime time.Time              `json:"RequestedExecutionDateTime"`
	InstructedAmount           Amount                 `json:"InstructedAmount"`
	DebtorAccount              *Account               `json:"DebtorAccount,omitempty"`
	CreditorAccount            Account                `json:"CreditorAccount"`
	CreditorPostalAddress      *PostalAddress         `json:"CreditorPostalAddress,omitempty"`
	RemittanceInformation      *RemittanceInformation `json:"RemittanceInformation,omitempty"`
}

// StandingOrderInitiation is the Initiation of
// OBWriteDomesticStandingOrderConsent5. A zero time means the optional date
// was absent. It has no LocalInstrument, InstructionIdentification or
// RemittanceInformation in the spec.
type StandingOrderInitiation struct {
	Frequency                string    `json:"Frequency"`
	Reference                string    `json:"Reference,omitempty"`
	NumberOfPayments         string    `json:"NumberOfPayments,omitempty"`
	FirstPaymentDateTime     time.Time `json:"FirstPaymentDateTime"`
	RecurringPaymentDateTime time.Time `json:"RecurringPaymentDateTime,omitzero"`
	FinalPaymentDateTime     time.Time `json:"FinalPaymentDateTime,omitzero"`
	FirstPaymentAmount       Amount    `json:"FirstPaymentAmount"`
	RecurringPaymentAmount   *Amount   `json:"RecurringPaymentAmount,omitempty"`
	FinalPaymentAmount       *Amount   `json:"FinalPaymentAmount,omitempty"`
	DebtorAccount            *Account  `json:"DebtorAccount,omitempty"`
	CreditorAccount          Account   `json:"CreditorAccount"`
}

const initiationPath = "Data.Initiation"

// Validate checks a domestic payment Initiation. now is unused for
// immediate payments but kept so all three variants have one signature.
func (in Initiation) Validate(l Limits, now time.Time) error {
	v := &validator{l: l}
	p := initiationPath
	v.text(p+".InstructionIdentification", in.InstructionIdentification, MaxInstructionIdentification, true)
	v.text(p+".EndToEndIdentification", in.EndToEndIdentification, MaxEndToEndIdentification, true)
	v.instrument(p+".LocalInstrument", in.LocalInstrument)
	v.amount(p+".InstructedAmount", in.InstructedAmount)
	v.account(p+".DebtorAccount", in.DebtorAccount, false)
	v.account(p+".CreditorAccount", &in.CreditorAccount, true)
	v.address(p+".CreditorPostalAddress", in.CreditorPostalAddress)
	v.remittance(p+".RemittanceInformation", in.RemittanceInformation)
	return v.result()
}

// Validate checks a scheduled payment Initiation: the domestic rules, and
// RequestedExecutionDateTime after now and no later than now+MaxHorizon.
func (in ScheduledInitiation) Validate(l Limits, now time.Time) error {
	v := &validator{l: l}
	p := initiationPath
	v.text(p+".InstructionIdentification", in.InstructionIdentification, MaxInstructionIdentification, true)
	v.text(p+".EndToEndIdentification", in.EndToEndIdentification, MaxEndToEndIdentification, false)
	v.instrument(p+".LocalInstrument", in.LocalInstrument)
	v.future(p+".RequestedExecutionDateTime", in.RequestedExecutionDateTime, now)
	v.amount(p+".InstructedAmount", in.InstructedAmount)
	v.account(p+".DebtorAccount", in.DebtorAccount, false)
	v.account(p+".CreditorAccount", &in.CreditorAccount, true)
	v.address(p+".CreditorPostalAddress", in.CreditorPostalAddress)
	v.remittance(p+".RemittanceInformation", in.RemittanceInformation)
	return v.result()
}

// Validate checks a standing-order Initiation: the frequency, the
// reference, the dates (first after now and within the horizon, recurring
// and final not before first, final after recurring), the amounts (each
// checked like an instructed amount, all in one currency), NumberOfPayments
// (a positive integer up to Limits.MaxNumberOfPayments, not together with
// FinalPaymentDateTime), and the accounts.
func (in StandingOrderInitiation) Validate(l Limits, now time.Time) error {
	v := &validator{l: l}
	p := initiationPath
	if in.Frequency == "" {
		v.fail(ob.CodeFieldMissing, p+".Frequency", "is required")
	} else if _, err := ParseFrequency(in.Frequency); err != nil {
		v.setErr(err)
	}
	v.text(p+".Reference", in.Reference, MaxReference, false)
	if in.NumberOfPayments != "" && v.ok() {
		n, ok := positiveInt(in.NumberOfPayments)
		switch {
		case len(in.NumberOfPayments) > MaxNumberOfPayments || !ok:
			v.fail(ob.CodeFieldInvalid, p+".NumberOfPayments", "must be a positive whole number")
		case l.MaxNumberOfPayments > 0 && n > l.MaxNumberOfPayments:
			v.fail(ob.CodeFieldInvalid, p+".NumberOfPayments", fmt.Sprintf("must be at most %d", l.MaxNumberOfPayments))
		case !in.FinalPaymentDateTime.IsZero():
			v.fail(ob.CodeFieldUnexpected, p+".NumberOfPayments", "give either NumberOfPayments or FinalPaymentDateTime, not both")
		}
	}
	v.future(p+".FirstPaymentDateTime", in.FirstPaymentDateTime, now)
	if v.ok() && !in.RecurringPaymentDateTime.IsZero() && in.RecurringPaymentDateTime.Before(in.FirstPaymentDateTime) {
		v.fail(ob.CodeFieldInvalidDate, p+".RecurringPaymentDateTime", "must not be before FirstPaymentDateTime")
	}
	if v.ok() && !in.FinalPaymentDateTime.IsZero() {
		switch {
		case !in.FinalPaymentDateTime.After(in.FirstPaymentDateTime):
			v.fail(ob.CodeFieldInvalidDate, p+".FinalPaymentDateTime", "must be after FirstPaymentDateTime")
		case !in.RecurringPaymentDateTime.IsZero() && in.FinalPaymentDateTime.Before(in.RecurringPaymentDateTime):
			v.fail(ob.CodeFieldInvalidDate, p+".FinalPaymentDateTime", "must not be before RecurringPaymentDateTime")
		}
	}
	v.amount(p+".FirstPaymentAmount", in.FirstPaymentAmount)
	cur := in.FirstPaymentAmount.Currency
	for _, a := range []struct {
		name string
		amt  *Amount
	}{{"RecurringPaymentAmount", in.RecurringPaymentAmount}, {"FinalPaymentAmount", in.FinalPaymentAmount}} {
		if a.amt == nil {
			continue
		}
		v.amount(p+"."+a.name, *a.amt)
		if v.ok() && a.amt.Currency != cur {
			v.fail(ob.CodeFieldInvalid, p+"."+a.name+".Currency", "must be the currency of FirstPaymentAmount ("+cur+")")
		}
	}
	if v.ok() && in.FinalPaymentAmount != nil && in.NumberOfPayments == "" && in.FinalPaymentDateTime.IsZero() {
		v.fail(ob.CodeFieldUnexpected, p+".FinalPaymentAmount", "an open-ended standing order (no NumberOfPayments or FinalPaymentDateTime) has no final payment")
	}
	v.account(p+".DebtorAccount", in.DebtorAccount, false)
	v.account(p+".CreditorAccount", &in.CreditorAccount, true)
	return v.result()
}

func positiveInt(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, n > 0
}

// NormaliseScheme maps the legacy un-namespaced scheme names the spec says
// may still be sent to their UK.OBIE.* form; anything else is returned as is.
func NormaliseScheme(s string) string {
	switch s {
	case "SortCodeAccountNumber":
		return ob.SchemeSortCodeAccountNumber
	case "IBAN":
		return ob.SchemeIBAN
	}
	return s
}

type validator struct {
	l   Limits
	err *ob.Error
}

func (v *validator) ok() bool { return v.err == nil }

func (v *validator) fail(code, path, msg string) {
	if v.err == nil {
		v.err = ob.FieldError(code, path, msg)
	}
}

func (v *validator) setErr(err error) {
	if v.err != nil || err == nil {
		return
	}
	if e, ok := err.(*ob.Error); ok {
		v.err = e
		return
	}
	v.err = &ob.Error{Code: ob.CodeFieldInvalid, Message: err.Error()}
}

func (v *validator) result() error {
	if v.err == nil {
		return nil
	}
	return v.err
}

// text checks a free-text field: presence, length in characters (JSON
// Schema counts code points) and characters a payment scheme can carry
// (valid UTF-8, no control characters).
func (v *validator) text(path, s string, max int, required bool) {
	if !v.ok() {
		return
	}
	if s == "" {
		if required {
			v.fail(ob.CodeFieldMissing, path, "is required")
		}
		return
	}
	if !utf8.ValidString(s) {
		v.fail(ob.CodeFieldInvalid, path, "is not valid UTF-8")
		return
	}
	if n := utf8.RuneCountInString(s); n > max {
		v.fail(ob.CodeFieldInvalid, path, fmt.Sprintf("is %d characters; the maximum is %d", n, max))
		return
	}
	if strings.TrimSpace(s) == "" {
		v.fail(ob.CodeFieldInvalid, path, "must not be blank")
		return
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == utf8.RuneError {
			v.fail(ob.CodeFieldInvalid, path, "contains a character that cannot be processed")
			return
		}
	}
}

func (v *validator) instrument(path, s string) {
	if !v.ok() || s == "" {
		return
	}
	allowed := v.l.LocalInstruments
	if allowed == nil {
		allowed = LocalInstruments
	}
	if !contains(LocalInstruments, s) || !contains(allowed, s) {
		v.fail(ob.CodeUnsupportedLocalInstrument, path, fmt.Sprintf("local instrument %q is not supported", s))
	}
}

func (v *validator) amount(path string, a Amount) {
	if !v.ok() {
		return
	}
	switch {
	case a.Amount == "":
		v.fail(ob.CodeFieldMissing, path+".Amount", "is required")
		return
	case a.Currency == "":
		v.fail(ob.CodeFieldMissing, path+".Currency", "is required")
		return
	case !ob.ValidCurrency(a.Currency):
		v.fail(ob.CodeFieldInvalid, path+".Currency", "must be an ISO 4217 code (^[A-Z]{3,3}$)")
		return
	case !contains(v.l.Currencies, a.Currency):
		v.fail(ob.CodeUnsupportedCurrency, path+".Currency", fmt.Sprintf("currency %s is not supported; supported: %s", a.Currency, strings.Join(v.l.Currencies, ", ")))
		return
	}
	m, err := a.Money()
	if err != nil {
		v.fail(ob.CodeFieldInvalid, path+".Amount", err.Error())
		return
	}
	if m.Minor <= 0 {
		v.fail(ob.CodeFieldInvalid, path+".Amount", "must be greater than zero")
		return
	}
	max, err := v.l.MaxFor(a.Currency)
	if err != nil {
		v.setErr(&ob.Error{Code: ob.CodeUnexpectedError, Message: "payment limits are misconfigured", Err: err})
		return
	}
	if m.Minor > max.Minor {
		v.fail(ob.CodeFieldInvalid, path+".Amount", fmt.Sprintf("%s exceeds the maximum of %s per payment", m, max))
	}
}

func (v *validator) account(path string, a *Account, creditor bool) {
	if !v.ok() || a == nil {
		return
	}
	scheme := NormaliseScheme(a.SchemeName)
	switch {
	case a.SchemeName == "":
		v.fail(ob.CodeFieldMissing, path+".SchemeName", "is required")
		return
	case scheme != ob.SchemeSortCodeAccountNumber && scheme != ob.SchemeIBAN:
		v.fail(ob.CodeUnsupportedScheme, path+".SchemeName", fmt.Sprintf("scheme %q is not supported; supported: %s, %s", a.SchemeName, ob.SchemeSortCodeAccountNumber, ob.SchemeIBAN))
		return
	}
	v.text(path+".Identification", a.Identification, MaxAccountIdentification, true)
	if !v.ok() {
		return
	}
	switch scheme {
	case ob.SchemeSortCodeAccountNumber:
		if !ob.ValidSortCodeAccountNumber(a.Identification) {
			v.fail(ob.CodeFieldInvalid, path+".Identification", "a sort code and account number must be 14 digits (^[0-9]{6}[0-9]{8}$)")
		}
	case ob.SchemeIBAN:
		if !ob.ValidIBAN(a.Identification) {
			v.fail(ob.CodeFieldInvalid, path+".Identification", "is not a valid IBAN (electronic form, ISO 13616 length and mod-97 check)")
		} else if len(v.l.IBANCountries) > 0 && !contains(v.l.IBANCountries, a.Identification[:2]) {
			v.fail(ob.CodeUnsupportedAccountIdentifier, path+".Identification", fmt.Sprintf("IBANs of %s are not supported", a.Identification[:2]))
		}
	}
	v.text(path+".Name", a.Name, MaxAccountName, creditor)
	v.text(path+".SecondaryIdentification", a.SecondaryIdentification, MaxSecondaryIdentification, false)
}

func (v *validator) address(path string, a *PostalAddress) {
	if !v.ok() || a == nil {
		return
	}
	for _, f := range []struct {
		name string
		s    string
		max  int
	}{
		{"AddressType", a.AddressType, 40}, {"Department", a.Department, 70},
		{"SubDepartment", a.SubDepartment, 70}, {"StreetName", a.StreetName, 70},
		{"BuildingNumber", a.BuildingNumber, 16}, {"PostCode", a.PostCode, 16},
		{"TownName", a.TownName, 35}, {"CountrySubDivision", a.CountrySubDivision, 35},
	} {
		v.text(path+"."+f.name, f.s, f.max, false)
	}
	if v.ok() && a.Country != "" && !countryCode(a.Country) {
		v.fail(ob.CodeFieldInvalid, path+".Country", "must be an ISO 3166-1 alpha-2 code (^[A-Z]{2,2}$)")
	}
	if v.ok() && len(a.AddressLines) > MaxAddressLines {
		v.fail(ob.CodeFieldInvalid, path+".AddressLines", fmt.Sprintf("at most %d lines", MaxAddressLines))
	}
	for i, line := range a.AddressLines {
		v.text(fmt.Sprintf("%s.AddressLines[%d]", path, i), line, MaxAddressLine, true)
	}
}

func countryCode(s string) bool {
	return len(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z'
}

func (v *validator) remittance(path string, r *RemittanceInformation) {
	if !v.ok() || r == nil {
		return
	}
	v.text(path+".Unstructured", r.Unstructured, MaxUnstructured, false)
	v.text(path+".Reference", r.Reference, MaxReference, false)
}

// future checks a required execution date: after now, within MaxHorizon.
func (v *validator) future(path string, t, now time.Time) {
	if !v.ok() {
		return
	}
	switch {
	case t.IsZero():
		v.fail(ob.CodeFieldMissing, path, "is required")
	case !t.After(now):
		v.fail(ob.CodeFieldInvalidDate, path, "must be in the future")
	case v.l.MaxHorizon > 0 && t.After(now.Add(v.l.MaxHorizon)):
		v.fail(ob.CodeFieldInvalidDate, path, fmt.Sprintf("must be no later than %s", now.Add(v.l.MaxHorizon).UTC().Format(time.RFC3339)))
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
