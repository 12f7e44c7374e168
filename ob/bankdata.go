package ob

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// This file checks a BankData batch before it is imported: the demo seed,
// `obank import` of a JSON file, and later the ledger. The rules are the
// OBIE v3.1 account-information contract (enums, patterns and lengths of
// account-info-openapi.yaml) plus the referential integrity a store needs.
// Checking here, in the domain, means a bad file is refused with a precise
// path before any backend sees it, and both backends refuse the same things.

// Statement amount types used by the bank (OBExternalStatementAmountType1Code).
// The spec's list has no "OpeningBalance", "PaymentsIn" or "PaymentsOut":
// StartingBalance, TotalCredits and TotalDebits are its names for them.
const (
	StatementAmountStartingBalance = "UK.OBIE.StartingBalance"
	StatementAmountClosingBalance  = "UK.OBIE.ClosingBalance"
	StatementAmountTotalCredits    = "UK.OBIE.TotalCredits"
	StatementAmountTotalDebits     = "UK.OBIE.TotalDebits"
	StatementAmountCreditLimit     = "UK.OBIE.CreditLimit"
	StatementAmountMinimumPayment  = "UK.OBIE.MinimumPaymentDue"
)

// Patterns from account-info-openapi.yaml. The spec leaves the phone pattern
// unanchored (JSON Schema searches); we anchor it, which is stricter and what
// a reader of the spec means.
var (
	phonePattern     = regexp.MustCompile(`^\+[0-9]{1,3}-[0-9()+\-]{1,30}$`)
	ratePattern      = regexp.MustCompile(`^(-?\d{1,3}){1}(\.\d{1,4}){0,1}$`)
	frequencyPattern = regexp.MustCompile(`^(NotKnown)$|^(EvryDay)$|^(EvryWorkgDay)$|^(IntrvlDay:((0[2-9])|([1-2][0-9])|3[0-1]))$|^(IntrvlWkDay:0[1-9]:0[1-7])$|^(WkInMnthDay:0[1-5]:0[1-7])$|^(IntrvlMnthDay:(0[1-6]|12|24):(-0[1-5]|0[1-9]|[12][0-9]|3[01]))$|^(QtrDay:(ENGLISH|SCOTTISH|RECEIVED))$`)
	countryPattern   = regexp.MustCompile(`^[A-Z]{2}$`)
	mccPattern       = regexp.MustCompile(`^[0-9]{3,4}$`)
	bicPattern       = regexp.MustCompile(`^[A-Z]{6}[A-Z2-9][A-NP-Z0-9]([A-Z0-9]{3})?$`)
	decimalPattern   = regexp.MustCompile(`^-?\d{1,13}(\.\d{1,5})?$`)
)

// ValidFrequency reports whether s is an OBIE account-information frequency
// expression (Frequency_1, which adds NotKnown to the payment pattern).
func ValidFrequency(s string) bool { return frequencyPattern.MatchString(s) }

// ValidPhone reports whether s matches OBIE's phone number pattern
// (+44-7700900123).
func ValidPhone(s string) bool { return phonePattern.MatchString(s) }

// ValidRate reports whether s matches OBIE's Rate pattern (up to three
// integer and four fraction digits, optionally negative).
func ValidRate(s string) bool { return ratePattern.MatchString(s) }

// ValidSortCodeAccountNumber reports whether s is a UK.OBIE.SortCodeAccountNumber
// identification: a 6-digit sort code followed by an 8-digit account number,
// no separators.
func ValidSortCodeAccountNumber(s string) bool {
	return len(s) == 14 && allDigits(s)
}

// ibanLengths is the ISO 13616 registry length of the IBANs we expect to
// meet. Countries not listed are held only to the generic 15-34 bound.
var ibanLengths = map[string]int{
	"AT": 20, "BE": 16, "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18,
	"EE": 20, "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GI": 23, "GR": 27,
	"HR": 21, "HU": 28, "IE": 22, "IS": 26, "IT": 27, "LI": 21, "LT": 20,
	"LU": 20, "LV": 21, "MC": 27, "MT": 31, "NL": 18, "NO": 15, "PL": 28,
	"PT": 25, "RO": 24, "SE": 24, "SI": 19, "SK": 24,
}

// ValidIBAN reports whether s is an IBAN in electronic form (no spaces,
// upper case) whose ISO 13616 mod-97 check holds and whose length is right
// for its country when we know that country's length.
func ValidIBAN(s string) bool {
	if len(s) < 15 || len(s) > 34 {
		return false
	}
	if !isUpper(s[0]) || !isUpper(s[1]) || !isDigit(s[2]) || !isDigit(s[3]) {
		return false
	}
	if n, ok := ibanLengths[s[:2]]; ok && len(s) != n {
		return false
	}
	for i := 4; i < len(s); i++ {
		if !isDigit(s[i]) && !isUpper(s[i]) {
			return false
		}
	}
	return ibanMod97(s[4:]+s[:4]) == 1
}

// NewIBAN builds the IBAN of a domestic account: the country code, the two
// ISO 13616 check digits and the BBAN (for GB: 4-letter bank code, sort
// code, account number).
func NewIBAN(country, bban string) (string, error) {
	if !countryPattern.MatchString(country) {
		return "", fmt.Errorf("ob: IBAN country %q is not two upper-case letters", country)
	}
	for i := 0; i < len(bban); i++ {
		if !isDigit(bban[i]) && !isUpper(bban[i]) {
			return "", fmt.Errorf("ob: IBAN BBAN %q has a character other than 0-9 A-Z", bban)
		}
	}
	check := 98 - ibanMod97(bban+country+"00")
	iban := fmt.Sprintf("%s%02d%s", country, check, bban)
	if !ValidIBAN(iban) {
		return "", fmt.Errorf("ob: %q is not a valid IBAN (wrong BBAN length for %s?)", iban, country)
	}
	return iban, nil
}

// ibanMod97 computes the ISO 7064 mod-97-10 remainder of s with letters
// expanded to two digits (A=10 ... Z=35), digit by digit so no big integers
// are needed.
func ibanMod97(s string) int {
	r := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUpper(c) {
			v := int(c-'A') + 10
			r = (r*100 + v) % 97
		} else {
			r = (r*10 + int(c-'0')) % 97
		}
	}
	return r
}

// ValidLuhn reports whether s is a non-empty string of digits whose Luhn
// (ISO/IEC 7812) check digit holds.
func ValidLuhn(s string) bool {
	if s == "" || !allDigits(s) {
		return false
	}
	return luhnSum(s, false)%10 == 0
}

// LuhnCheckDigit returns the digit to append to payload to make it pass the
// Luhn check. payload must be digits only.
func LuhnCheckDigit(payload string) (byte, error) {
	if !allDigits(payload) {
		return 0, fmt.Errorf("ob: Luhn payload %q is not all digits", payload)
	}
	return byte('0' + (10-luhnSum(payload, true)%10)%10), nil
}

// luhnSum sums the digits of s from the right, doubling every second one.
// doubleFirst says whether the rightmost digit is doubled (true when s lacks
// its check digit).
func luhnSum(s string, doubleFirst bool) int {
	sum := 0
	double := doubleFirst
	for i := len(s) - 1; i >= 0; i-- {
		d := int(s[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum
}

// ValidPAN reports whether s is a plausible card number: 12 to 19 digits
// with a valid Luhn check digit.
func ValidPAN(s string) bool { return len(s) >= 12 && len(s) <= 19 && ValidLuhn(s) }

// ValidBIC reports whether s has the shape of an ISO 9362 BIC (8 or 11
// characters).
func ValidBIC(s string) bool { return bicPattern.MatchString(s) }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// Enumerations of account-info-openapi.yaml, as sets.
var (
	accountStatuses  = enum("Deleted", "Disabled", "Enabled", "Pending", "ProForma")
	accountTypes     = enum(AccountTypeBusiness, AccountTypePersonal)
	accountSubTypes  = enum(SubTypeChargeCard, SubTypeCreditCard, SubTypeCurrentAccount, SubTypeEMoney, SubTypeLoan, SubTypeMortgage, SubTypePrePaidCard, SubTypeSavings, "Wallet")
	switchStatuses   = enum("UK.CASS.NotSwitched", "UK.CASS.SwitchCompleted")
	accountSchemes   = enum("UK.OBIE.BBAN", SchemeIBAN, SchemePAN, "UK.OBIE.Paym", SchemeSortCodeAccountNumber, "UK.OBIE.Wallet")
	agentSchemes     = enum(SchemeBICFI)
	partyTypes       = enum("Delegate", "Joint", "Sole")
	accountRoles     = enum("UK.OBIE.Administrator", "UK.OBIE.Beneficiary", "UK.OBIE.CustodianForMinor", "UK.OBIE.Granter", "UK.OBIE.LegalGuardian", "UK.OBIE.OtherParty", "UK.OBIE.PowerOfAttorney", "UK.OBIE.Principal", "UK.OBIE.Protector", "UK.OBIE.RegisteredShareholderName", "UK.OBIE.SecondaryOwner", "UK.OBIE.SeniorManagingOfficial", "UK.OBIE.Settlor", "UK.OBIE.SuccessorOnDeath")
	legalStructures  = enum("UK.OBIE.CIC", "UK.OBIE.CIO", "UK.OBIE.Charity", "UK.OBIE.CoOp", "UK.OBIE.GeneralPartnership", "UK.OBIE.Individual", "UK.OBIE.LimitedLiabilityPartnership", "UK.OBIE.LimitedPartnership", "UK.OBIE.PrivateLimitedCompany", "UK.OBIE.PublicLimitedCompany", "UK.OBIE.ScottishLimitedPartnership", "UK.OBIE.Sole")
	addressTypes     = enum("Business", "Correspondence", "DeliveryTo", "MailTo", "POBox", "Postal", "Residential", "Statement")
	balanceTypes     = enum(BalanceClosingAvailable, BalanceClosingBooked, BalanceClosingCleared, BalanceExpected, BalanceForwardAvailable, BalanceInformation, BalanceInterimAvailable, BalanceInterimBooked, BalanceInterimCleared, BalanceOpeningAvailable, BalanceOpeningBooked, BalanceOpeningCleared, "PreviouslyClosedBooked")
	creditLineTypes  = enum("Available", "Credit", "Emergency", "Pre-Agreed", "Temporary")
	txStatuses       = enum(TxBooked, TxPending, TxRejected)
	txMutabilities   = enum("Mutable", "Immutable")
	cardSchemes      = enum("AmericanExpress", "Diners", "Discover", "MasterCard", "VISA")
	cardAuthTypes    = enum("ConsumerDevice", "Contactless", "None", "PIN")
	beneficiaryTypes = enum("Trusted", "Ordinary")
	mandateStatuses  = enum("Active", "Inactive")
	ddFrequencies    = enum("UK.OBIE.Annual", "UK.OBIE.Daily", "UK.OBIE.Fortnightly", "UK.OBIE.HalfYearly", "UK.OBIE.Monthly", "UK.OBIE.NotKnown", "UK.OBIE.Quarterly", "UK.OBIE.Weekly")
	scheduleTypes    = enum("Arrival", "Execution")
	statementTypes   = enum("AccountClosure", "AccountOpening", "Annual", "Interim", "RegularPeriodic")
	stmtAmountTypes  = enum("UK.OBIE.ArrearsClosingBalance", "UK.OBIE.AvailableBalance", "UK.OBIE.AverageBalanceWhenInCredit", "UK.OBIE.AverageBalanceWhenInDebit", "UK.OBIE.AverageDailyBalance", "UK.OBIE.BalanceTransferClosingBalance", "UK.OBIE.CashClosingBalance", "UK.OBIE.ClosingBalance", "UK.OBIE.CreditLimit", "UK.OBIE.CurrentPayment", "UK.OBIE.DirectDebitPaymentDue", "UK.OBIE.FSCSInsurance", "UK.OBIE.MinimumPaymentDue", "UK.OBIE.PendingTransactionsBalance", "UK.OBIE.PreviousClosingBalance", "UK.OBIE.PreviousPayment", "UK.OBIE.PurchaseClosingBalance", "UK.OBIE.StartingBalance", "UK.OBIE.TotalAdjustments", "UK.OBIE.TotalCashAdvances", "UK.OBIE.TotalCharges", "UK.OBIE.TotalCredits", "UK.OBIE.TotalDebits", "UK.OBIE.TotalPurchases")
	stmtDateTypes    = enum("UK.OBIE.BalanceTransferPromoEnd", "UK.OBIE.DirectDebitDue", "UK.OBIE.LastPayment", "UK.OBIE.LastStatement", "UK.OBIE.NextStatement", "UK.OBIE.PaymentDue", "UK.OBIE.PurchasePromoEnd", "UK.OBIE.StatementAvailable")
	stmtFeeTypes     = enum("UK.OBIE.Annual", "UK.OBIE.BalanceTransfer", "UK.OBIE.CashAdvance", "UK.OBIE.CashTransaction", "UK.OBIE.ForeignCashTransaction", "UK.OBIE.ForeignTransaction", "UK.OBIE.Gambling", "UK.OBIE.LatePayment", "UK.OBIE.MoneyTransfer", "UK.OBIE.Monthly", "UK.OBIE.Overlimit", "UK.OBIE.PostalOrder", "UK.OBIE.PrizeEntry", "UK.OBIE.StatementCopy", "UK.OBIE.Total")
	stmtFeeRateTypes = enum("UK.OBIE.AER", "UK.OBIE.EAR")
	stmtFeeFreqs     = enum("UK.OBIE.ChargingPeriod", "UK.OBIE.PerTransactionAmount", "UK.OBIE.PerTransactionPercentage", "UK.OBIE.Quarterly", "UK.OBIE.StatementMonthly", "UK.OBIE.Weekly")
	stmtIntTypes     = enum("UK.OBIE.BalanceTransfer", "UK.OBIE.Cash", "UK.OBIE.EstimatedNext", "UK.OBIE.Purchase", "UK.OBIE.Total")
	stmtIntRateTypes = enum("UK.OBIE.BOEBaseRate", "UK.OBIE.FixedRate", "UK.OBIE.Gross", "UK.OBIE.LoanProviderBaseRate", "UK.OBIE.Net")
	stmtIntFreqs     = enum("UK.OBIE.Daily", "UK.OBIE.HalfYearly", "UK.OBIE.Monthly", "UK.OBIE.PerStatementDate", "UK.OBIE.Quarterly", "UK.OBIE.Weekly", "UK.OBIE.Yearly")
	stmtRateTypes    = enum("UK.OBIE.AnnualBalanceTransfer", "UK.OBIE.AnnualBalanceTransferAfterPromo", "UK.OBIE.AnnualBalanceTransferPromo", "UK.OBIE.AnnualCash", "UK.OBIE.AnnualPurchase", "UK.OBIE.AnnualPurchaseAfterPromo", "UK.OBIE.AnnualPurchasePromo", "UK.OBIE.MonthlyBalanceTransfer", "UK.OBIE.MonthlyCash", "UK.OBIE.MonthlyPurchase")
	stmtValueTypes   = enum("UK.OBIE.AirMilesPoints", "UK.OBIE.AirMilesPointsBalance", "UK.OBIE.Credits", "UK.OBIE.Debits", "UK.OBIE.HotelPoints", "UK.OBIE.HotelPointsBalance", "UK.OBIE.RetailShoppingPoints", "UK.OBIE.RetailShoppingPointsBalance")
	productTypes     = enum("BusinessCurrentAccount", "CommercialCreditCard", "Other", "PersonalCurrentAccount", "SMELoan")
	offerTypes       = enum("BalanceTransfer", "LimitIncrease", "MoneyTransfer", "Other", "PromotionalRate")
)

// enumSet is an immutable set of allowed values; list keeps the spec's
// order for error messages.
type enumSet struct {
	set  map[string]bool
	list string
}

func enum(values ...string) enumSet {
	s := enumSet{set: make(map[string]bool, len(values)), list: strings.Join(values, ", ")}
	for _, v := range values {
		s.set[v] = true
	}
	return s
}

// Validate checks the batch against the OBIE contract and its own
// references. It returns nil or the first problem found, as an *Error with
// code UK.OBIE.Field.Missing or UK.OBIE.Field.Invalid and a Path such as
// "Accounts[3].Currency". Ids must be unique within each collection
// (transactions and statements across all accounts, not just per account),
// and every AccountID and CustomerID must name a record of the same batch.
//
// Amounts that instruct a payment (standing orders, direct debits,
// scheduled payments, credit lines, offers) are unsigned and must not be
// negative; balances, transactions and statement lines are signed.
func (d *BankData) Validate() error {
	v := &validator{
		customers: make(map[string]bool, len(d.Customers)),
		accounts:  make(map[string]string, len(d.Accounts)),
	}
	v.customersOK(d.Customers)
	v.accountsOK(d.Accounts)
	v.holdersOK(d.AccountHolders)
	v.balancesOK(d.Balances)
	v.transactionsOK(d.Transactions)
	v.beneficiariesOK(d.Beneficiaries)
	v.directDebitsOK(d.DirectDebits)
	v.standingOrdersOK(d.StandingOrders)
	v.scheduledPaymentsOK(d.ScheduledPayments)
	v.statementsOK(d.Statements)
	v.productsOK(d.Products)
	v.offersOK(d.Offers)
	if v.err != nil {
		return v.err
	}
	return nil
}

// validator remembers the first error; every check is a no-op after it, so
// the walk reads straight through without an if after each line.
type validator struct {
	err       *Error
	customers map[string]bool   // customer ids seen
	accounts  map[string]string // account id -> currency
}

func (v *validator) fail(code, path, format string, args ...any) {
	if v.err == nil {
		v.err = FieldError(code, path, fmt.Sprintf(format, args...))
	}
}

func (v *validator) ok() bool { return v.err == nil }

func at(collection string, i int, field string) string {
	return collection + "[" + strconv.Itoa(i) + "]." + field
}

// required fails when s is empty and checks its length otherwise.
func (v *validator) required(path, s string, max int) {
	if s == "" {
		v.fail(CodeFieldMissing, path, "is required")
		return
	}
	v.maxLen(path, s, max)
}

// optional checks the length of s when it is set.
func (v *validator) optional(path, s string, max int) {
	if s != "" {
		v.maxLen(path, s, max)
	}
}

// maxLen counts characters, not bytes, as JSON Schema's maxLength does.
func (v *validator) maxLen(path, s string, max int) {
	if len(s) > max && len([]rune(s)) > max {
		v.fail(CodeFieldInvalid, path, "is longer than %d characters", max)
	}
}

func (v *validator) oneOf(path, s string, e enumSet, required bool) {
	if s == "" {
		if required {
			v.fail(CodeFieldMissing, path, "is required")
		}
		return
	}
	if !e.set[s] {
		v.fail(CodeFieldInvalid, path, "%q is not one of %s", s, e.list)
	}
}

func (v *validator) match(path, s string, re *regexp.Regexp, required bool) {
	if s == "" {
		if required {
			v.fail(CodeFieldMissing, path, "is required")
		}
		return
	}
	if !re.MatchString(s) {
		v.fail(CodeFieldInvalid, path, "%q does not match %s", s, re.String())
	}
}

// uniqueID checks an id for presence, length and uniqueness in its
// collection.
func (v *validator) uniqueID(path, id string, max int, seen map[string]bool) {
	v.required(path, id, max)
	if id == "" {
		return
	}
	if seen[id] {
		v.fail(CodeFieldInvalid, path, "duplicate id %q", id)
	}
	seen[id] = true
}

// account checks a reference to an account and returns its currency.
func (v *validator) account(path, id string) string {
	if id == "" {
		v.fail(CodeFieldMissing, path, "is required")
		return ""
	}
	cur, ok := v.accounts[id]
	if !ok {
		v.fail(CodeFieldInvalid, path, "unknown account %q", id)
	}
	return cur
}

func (v *validator) customer(path, id string) {
	if id == "" {
		v.fail(CodeFieldMissing, path, "is required")
		return
	}
	if !v.customers[id] {
		v.fail(CodeFieldInvalid, path, "unknown customer %q", id)
	}
}

// money checks a currency, and that it is the account's when the account's
// is known (accountCur is empty when the reference itself was bad).
func (v *validator) money(path string, m Money, accountCur string) {
	if !ValidCurrency(m.Currency) {
		v.fail(CodeFieldInvalid, path+".Currency", "%q is not an ISO 4217 currency code", m.Currency)
		return
	}
	if accountCur != "" && m.Currency != accountCur {
		v.fail(CodeFieldInvalid, path+".Currency", "%s differs from the account's currency %s", m.Currency, accountCur)
	}
}

// unsigned is money that instructs a payment: it has no sign.
func (v *validator) unsigned(path string, m *Money, accountCur string) {
	if m == nil {
		return
	}
	v.money(path, *m, accountCur)
	if m.Minor < 0 {
		v.fail(CodeFieldInvalid, path+".Minor", "must not be negative")
	}
}

func (v *validator) address(path string, a *PostalAddress, maxLines int) {
	if a == nil {
		return
	}
	v.oneOf(path+".AddressType", a.AddressType, addressTypes, false)
	v.optional(path+".Department", a.Department, 70)
	v.optional(path+".SubDepartment", a.SubDepartment, 70)
	v.optional(path+".StreetName", a.StreetName, 70)
	v.optional(path+".BuildingNumber", a.BuildingNumber, 16)
	v.optional(path+".PostCode", a.PostCode, 16)
	v.optional(path+".TownName", a.TownName, 35)
	v.optional(path+".CountrySubDivision", a.CountrySubDivision, 35)
	v.match(path+".Country", a.Country, countryPattern, true)
	if len(a.AddressLines) > maxLines {
		v.fail(CodeFieldInvalid, path+".AddressLines", "has more than %d lines", maxLines)
	}
	for i, l := range a.AddressLines {
		v.required(fmt.Sprintf("%s.AddressLines[%d]", path, i), l, 70)
	}
}

// identification checks an OBCashAccount: the scheme, the identification's
// shape for the schemes with a defined one, and the lengths.
func (v *validator) identification(path string, a *AccountIdentification) {
	if a == nil {
		return
	}
	v.oneOf(path+".SchemeName", a.SchemeName, accountSchemes, true)
	v.required(path+".Identification", a.Identification, 256)
	v.optional(path+".Name", a.Name, 350)
	v.optional(path+".SecondaryIdentification", a.SecondaryIdentification, 34)
	if !v.ok() {
		return
	}
	id := a.Identification
	switch a.SchemeName {
	case SchemeSortCodeAccountNumber:
		if !ValidSortCodeAccountNumber(id) {
			v.fail(CodeFieldInvalid, path+".Identification", "a sort code and account number must be 14 digits (^[0-9]{6}[0-9]{8}$)")
		}
	case SchemeIBAN:
		if !ValidIBAN(id) {
			v.fail(CodeFieldInvalid, path+".Identification", "%q is not a valid IBAN", id)
		}
	case SchemePAN:
		if !ValidPAN(id) {
			v.fail(CodeFieldInvalid, path+".Identification", "is not a 12-19 digit card number with a valid Luhn check digit")
		}
	}
}

func (v *validator) agent(path string, a *Agent) {
	if a == nil {
		return
	}
	v.oneOf(path+".SchemeName", a.SchemeName, agentSchemes, false)
	v.optional(path+".Identification", a.Identification, 35)
	v.optional(path+".Name", a.Name, 140)
	if a.SchemeName == SchemeBICFI && a.Identification != "" && !ValidBIC(a.Identification) {
		v.fail(CodeFieldInvalid, path+".Identification", "%q is not a BIC", a.Identification)
	}
	v.address(path+".PostalAddress", a.PostalAddress, 7)
}

func (v *validator) customersOK(cs []Customer) {
	usernames := make(map[string]bool, len(cs))
	for i, c := range cs {
		v.uniqueID(at("Customers", i, "ID"), c.ID, 40, v.customers)
		if c.Username != "" {
			p := at("Customers", i, "Username")
			if usernames[c.Username] {
				v.fail(CodeFieldInvalid, p, "duplicate username %q", c.Username)
			}
			usernames[c.Username] = true
			v.maxLen(p, c.Username, 256)
		}
		v.optional(at("Customers", i, "PartyNumber"), c.PartyNumber, 35)
		v.oneOf(at("Customers", i, "PartyType"), c.PartyType, partyTypes, false)
		v.optional(at("Customers", i, "Name"), c.Name, 350)
		v.optional(at("Customers", i, "FullLegalName"), c.FullLegalName, 350)
		v.oneOf(at("Customers", i, "LegalStructure"), c.LegalStructure, legalStructures, false)
		v.optional(at("Customers", i, "Email"), c.Email, 256)
		v.match(at("Customers", i, "Phone"), c.Phone, phonePattern, false)
		v.match(at("Customers", i, "Mobile"), c.Mobile, phonePattern, false)
		// The party resource allows at most five address lines.
		v.address(at("Customers", i, "Address"), c.Address, 5)
		if !v.ok() {
			return
		}
	}
}

func (v *validator) accountsOK(as []Account) {
	for i, a := range as {
		p := func(f string) string { return at("Accounts", i, f) }
		if a.ID != "" {
			if _, dup := v.accounts[a.ID]; dup {
				v.fail(CodeFieldInvalid, p("ID"), "duplicate id %q", a.ID)
			}
		}
		v.required(p("ID"), a.ID, 40)
		v.customer(p("CustomerID"), a.CustomerID)
		v.oneOf(p("Status"), a.Status, accountStatuses, false)
		v.match(p("Currency"), a.Currency, currencyPattern, true)
		v.oneOf(p("Type"), a.Type, accountTypes, true)
		v.oneOf(p("SubType"), a.SubType, accountSubTypes, true)
		v.optional(p("Description"), a.Description, 35)
		v.optional(p("Nickname"), a.Nickname, 70)
		v.oneOf(p("SwitchStatus"), a.SwitchStatus, switchStatuses, false)
		for j := range a.Identifications {
			v.identification(fmt.Sprintf("%s[%d]", p("Identifications"), j), &a.Identifications[j])
		}
		if a.Servicer != nil {
			v.oneOf(p("Servicer.SchemeName"), a.Servicer.SchemeName, agentSchemes, true)
			v.required(p("Servicer.Identification"), a.Servicer.Identification, 35)
			v.agent(p("Servicer"), a.Servicer)
		}
		v.optional(p("ProductID"), a.ProductID, 40)
		if !v.ok() {
			return
		}
		v.accounts[a.ID] = a.Currency
	}
}

func (v *validator) holdersOK(hs []AccountHolder) {
	seen := make(map[[2]string]bool, len(hs))
	for i, h := range hs {
		v.account(at("AccountHolders", i, "AccountID"), h.AccountID)
		v.customer(at("AccountHolders", i, "CustomerID"), h.CustomerID)
		v.oneOf(at("AccountHolders", i, "PartyType"), h.PartyType, partyTypes, false)
		v.oneOf(at("AccountHolders", i, "AccountRole"), h.AccountRole, accountRoles, false)
		k := [2]string{h.AccountID, h.CustomerID}
		if seen[k] {
			v.fail(CodeFieldInvalid, at("AccountHolders", i, "CustomerID"), "customer %q already holds account %q", h.CustomerID, h.AccountID)
		}
		seen[k] = true
		if !v.ok() {
			return
		}
	}
}

func (v *validator) balancesOK(bs []Balance) {
	type key struct {
		account, typ string
		at           int64
	}
	seen := make(map[key]bool, len(bs))
	for i, b := range bs {
		cur := v.account(at("Balances", i, "AccountID"), b.AccountID)
		v.oneOf(at("Balances", i, "Type"), b.Type, balanceTypes, true)
		if b.DateTime.IsZero() {
			v.fail(CodeFieldMissing, at("Balances", i, "DateTime"), "is required")
		}
		v.money(at("Balances", i, "Amount"), b.Amount, cur)
		for j, cl := range b.CreditLines {
			p := fmt.Sprintf("%s[%d]", at("Balances", i, "CreditLines"), j)
			v.oneOf(p+".Type", cl.Type, creditLineTypes, false)
			v.unsigned(p+".Amount", cl.Amount, cur)
		}
		k := key{b.AccountID, b.Type, b.DateTime.UnixNano()}
		if seen[k] {
			v.fail(CodeFieldInvalid, at("Balances", i, "Type"), "duplicate %s balance of account %q at the same time", b.Type, b.AccountID)
		}
		seen[k] = true
		if !v.ok() {
			return
		}
	}
}

func (v *validator) transactionsOK(ts []Transaction) {
	seen := make(map[string]bool, len(ts))
	for i := range ts {
		t := &ts[i]
		p := func(f string) string { return at("Transactions", i, f) }
		v.uniqueID(p("ID"), t.ID, 210, seen)
		cur := v.account(p("AccountID"), t.AccountID)
		v.optional(p("Reference"), t.Reference, 210)
		for j, r := range t.StatementReferences {
			v.required(fmt.Sprintf("%s[%d]", p("StatementReferences"), j), r, 35)
		}
		v.oneOf(p("Status"), t.Status, txStatuses, true)
		v.oneOf(p("Mutability"), t.Mutability, txMutabilities, false)
		if t.BookingDateTime.IsZero() {
			v.fail(CodeFieldMissing, p("BookingDateTime"), "is required")
		}
		v.optional(p("Information"), t.Information, 500)
		v.optional(p("AddressLine"), t.AddressLine, 70)
		v.money(p("Amount"), t.Amount, cur)
		if t.ChargeAmount != nil {
			v.money(p("ChargeAmount"), *t.ChargeAmount, cur)
		}
		if t.BalanceAfter != nil {
			v.money(p("BalanceAfter"), *t.BalanceAfter, cur)
		}
		if c := t.BankTransactionCode; c != nil {
			v.required(p("BankTransactionCode.Code"), c.Code, 35)
			v.required(p("BankTransactionCode.SubCode"), c.SubCode, 35)
		}
		if c := t.ProprietaryBankTransactionCode; c != nil {
			v.required(p("ProprietaryBankTransactionCode.Code"), c.Code, 35)
			v.optional(p("ProprietaryBankTransactionCode.Issuer"), c.Issuer, 35)
		}
		if m := t.Merchant; m != nil {
			v.optional(p("Merchant.Name"), m.Name, 350)
			v.match(p("Merchant.CategoryCode"), m.CategoryCode, mccPattern, false)
		}
		v.optional(p("Category"), t.Category, 70)
		v.agent(p("CreditorAgent"), t.CreditorAgent)
		v.identification(p("CreditorAccount"), t.CreditorAccount)
		v.agent(p("DebtorAgent"), t.DebtorAgent)
		v.identification(p("DebtorAccount"), t.DebtorAccount)
		if c := t.Card; c != nil {
			v.oneOf(p("Card.SchemeName"), c.SchemeName, cardSchemes, true)
			v.oneOf(p("Card.AuthorisationType"), c.AuthorisationType, cardAuthTypes, false)
			v.optional(p("Card.Name"), c.Name, 70)
			v.optional(p("Card.Identification"), c.Identification, 34)
		}
		if !v.ok() {
			return
		}
	}
}

func (v *validator) beneficiariesOK(bs []Beneficiary) {
	seen := make(map[string]bool, len(bs))
	for i, b := range bs {
		v.uniqueID(at("Beneficiaries", i, "ID"), b.ID, 40, seen)
		v.account(at("Beneficiaries", i, "AccountID"), b.AccountID)
		v.oneOf(at("Beneficiaries", i, "Type"), b.Type, beneficiaryTypes, false)
		v.optional(at("Beneficiaries", i, "Reference"), b.Reference, 35)
		v.agent(at("Beneficiaries", i, "CreditorAgent"), b.CreditorAgent)
		v.identification(at("Beneficiaries", i, "CreditorAccount"), b.CreditorAccount)
		if !v.ok() {
			return
		}
	}
}

func (v *validator) directDebitsOK(ds []DirectDebit) {
	seen := make(map[string]bool, len(ds))
	for i, d := range ds {
		v.uniqueID(at("DirectDebits", i, "ID"), d.ID, 40, seen)
		cur := v.account(at("DirectDebits", i, "AccountID"), d.AccountID)
		v.required(at("DirectDebits", i, "MandateIdentification"), d.MandateIdentification, 35)
		v.oneOf(at("DirectDebits", i, "Status"), d.Status, mandateStatuses, false)
		v.required(at("DirectDebits", i, "Name"), d.Name, 70)
		v.oneOf(at("DirectDebits", i, "Frequency"), d.Frequency, ddFrequencies, false)
		v.unsigned(at("DirectDebits", i, "PreviousPaymentAmount"), d.PreviousPaymentAmount, cur)
		if !v.ok() {
			return
		}
	}
}

func (v *validator) standingOrdersOK(ss []StandingOrder) {
	seen := make(map[string]bool, len(ss))
	for i, s := range ss {
		p := func(f string) string { return at("StandingOrders", i, f) }
		v.uniqueID(p("ID"), s.ID, 40, seen)
		cur := v.account(p("AccountID"), s.AccountID)
		v.match(p("Frequency"), s.Frequency, frequencyPattern, true)
		v.optional(p("Reference"), s.Reference, 35)
		v.optional(p("NumberOfPayments"), s.NumberOfPayments, 35)
		v.oneOf(p("Status"), s.Status, mandateStatuses, false)
		v.unsigned(p("FirstPaymentAmount"), s.FirstPaymentAmount, cur)
		v.unsigned(p("NextPaymentAmount"), s.NextPaymentAmount, cur)
		v.unsigned(p("LastPaymentAmount"), s.LastPaymentAmount, cur)
		v.unsigned(p("FinalPaymentAmount"), s.FinalPaymentAmount, cur)
		v.agent(p("CreditorAgent"), s.CreditorAgent)
		v.identification(p("CreditorAccount"), s.CreditorAccount)
		if !v.ok() {
			return
		}
	}
}

func (v *validator) scheduledPaymentsOK(ss []ScheduledPayment) {
	seen := make(map[string]bool, len(ss))
	for i, s := range ss {
		p := func(f string) string { return at("ScheduledPayments", i, f) }
		v.uniqueID(p("ID"), s.ID, 40, seen)
		v.account(p("AccountID"), s.AccountID)
		if s.ScheduledPaymentDateTime.IsZero() {
			v.fail(CodeFieldMissing, p("ScheduledPaymentDateTime"), "is required")
		}
		v.oneOf(p("ScheduledType"), s.ScheduledType, scheduleTypes, true)
		v.optional(p("Reference"), s.Reference, 35)
		v.optional(p("DebtorReference"), s.DebtorReference, 35)
		// International scheduled payments instruct in a currency other
		// than the account's, so only the code itself is checked.
		v.unsigned(p("InstructedAmount"), &s.InstructedAmount, "")
		v.agent(p("CreditorAgent"), s.CreditorAgent)
		v.identification(p("CreditorAccount"), s.CreditorAccount)
		if !v.ok() {
			return
		}
	}
}

func (v *validator) statementsOK(ss []Statement) {
	seen := make(map[string]bool, len(ss))
	for i := range ss {
		s := &ss[i]
		p := func(f string) string { return at("Statements", i, f) }
		v.uniqueID(p("ID"), s.ID, 40, seen)
		cur := v.account(p("AccountID"), s.AccountID)
		v.optional(p("Reference"), s.Reference, 35)
		v.oneOf(p("Type"), s.Type, statementTypes, true)
		if s.StartDateTime.IsZero() {
			v.fail(CodeFieldMissing, p("StartDateTime"), "is required")
		}
		if s.EndDateTime.IsZero() {
			v.fail(CodeFieldMissing, p("EndDateTime"), "is required")
		}
		if s.CreationDateTime.IsZero() {
			v.fail(CodeFieldMissing, p("CreationDateTime"), "is required")
		}
		if s.EndDateTime.Before(s.StartDateTime) {
			v.fail(CodeFieldInvalid, p("EndDateTime"), "is before StartDateTime")
		}
		for j, d := range s.Descriptions {
			v.required(fmt.Sprintf("%s[%d]", p("Descriptions"), j), d, 500)
		}
		for j, a := range s.Amounts {
			q := fmt.Sprintf("%s[%d]", p("Amounts"), j)
			v.oneOf(q+".Type", a.Type, stmtAmountTypes, true)
			v.money(q+".Amount", a.Amount, cur)
		}
		v.charges(p("Fees"), s.Fees, cur, stmtFeeTypes, stmtFeeRateTypes, stmtFeeFreqs)
		v.charges(p("Interest"), s.Interest, cur, stmtIntTypes, stmtIntRateTypes, stmtIntFreqs)
		for j, d := range s.DateTimes {
			q := fmt.Sprintf("%s[%d]", p("DateTimes"), j)
			v.oneOf(q+".Type", d.Type, stmtDateTypes, true)
			if d.DateTime.IsZero() {
				v.fail(CodeFieldMissing, q+".DateTime", "is required")
			}
		}
		for j, r := range s.Rates {
			q := fmt.Sprintf("%s[%d]", p("Rates"), j)
			v.oneOf(q+".Type", r.Type, stmtRateTypes, true)
			v.match(q+".Value", r.Value, ratePattern, true)
		}
		for j, r := range s.Values {
			q := fmt.Sprintf("%s[%d]", p("Values"), j)
			v.oneOf(q+".Type", r.Type, stmtValueTypes, true)
			v.required(q+".Value", r.Value, 40)
		}
		if !v.ok() {
			return
		}
	}
}

// charges checks statement fee or interest lines, whose Rate is a JSON
// number on the wire and so must parse as a decimal.
func (v *validator) charges(path string, cs []StatementCharge, cur string, types, rateTypes, freqs enumSet) {
	for j, c := range cs {
		q := fmt.Sprintf("%s[%d]", path, j)
		v.optional(q+".Description", c.Description, 128)
		v.oneOf(q+".Type", c.Type, types, true)
		v.match(q+".Rate", c.Rate, decimalPattern, false)
		v.oneOf(q+".RateType", c.RateType, rateTypes, false)
		v.oneOf(q+".Frequency", c.Frequency, freqs, false)
		v.money(q+".Amount", c.Amount, cur)
	}
}

func (v *validator) productsOK(ps []Product) {
	// A product (PCA-STD, say) is shared by many accounts, so its id is
	// unique per account, not across the batch.
	seen := make(map[[2]string]bool, len(ps))
	for i, p := range ps {
		v.required(at("Products", i, "ID"), p.ID, 40)
		if key := [2]string{p.AccountID, p.ID}; seen[key] {
			v.fail(CodeFieldInvalid, at("Products", i, "ID"), "duplicate product %q for account %q", p.ID, p.AccountID)
		} else {
			seen[key] = true
		}
		v.account(at("Products", i, "AccountID"), p.AccountID)
		v.optional(at("Products", i, "Name"), p.Name, 350)
		v.optional(at("Products", i, "SecondaryID"), p.SecondaryID, 70)
		v.oneOf(at("Products", i, "Type"), p.Type, productTypes, true)
		v.optional(at("Products", i, "MarketingStateID"), p.MarketingStateID, 35)
		if !v.ok() {
			return
		}
	}
}

func (v *validator) offersOK(os []Offer) {
	seen := make(map[string]bool, len(os))
	for i, o := range os {
		p := func(f string) string { return at("Offers", i, f) }
		v.uniqueID(p("ID"), o.ID, 40, seen)
		cur := v.account(p("AccountID"), o.AccountID)
		v.oneOf(p("Type"), o.Type, offerTypes, false)
		v.optional(p("Description"), o.Description, 500)
		v.match(p("Rate"), o.Rate, ratePattern, false)
		v.optional(p("Term"), o.Term, 500)
		v.optional(p("URL"), o.URL, 256)
		v.unsigned(p("Amount"), o.Amount, cur)
		v.unsigned(p("Fee"), o.Fee, cur)
		if !v.ok() {
			return
		}
	}
}
