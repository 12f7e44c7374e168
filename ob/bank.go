package ob

import "time"

// This file is the bank's read side as the domain sees it. Field names follow
// OBIE where OBIE has a name, so the HTTP layer's converters stay obvious, but
// these types carry no JSON tags: the wire shape lives in httpapi.

// Customer is a payment services user (PSU): a person or business who logs in
// to the bank and owns accounts. It doubles as the OBIE Party of that person.
type Customer struct {
	ID             string // stable, also the OBIE PartyId
	Username       string // login name on the bank's pages
	PasswordHash   string // slow hash (bcrypt/argon2id); empty = cannot log in
	TOTPSecret     string // RFC 6238 second factor, base32; empty = none enrolled (no SCA possible)
	PartyNumber    string
	PartyType      string // Sole | Joint | Delegate
	Name           string
	FullLegalName  string
	LegalStructure string // UK.OBIE.Individual, UK.OBIE.CIC, ... empty for persons
	Email          string
	Phone          string // OBIE pattern +44-...
	Mobile         string
	Address        *PostalAddress
	CreatedAt      time.Time
}

// PostalAddress follows OBIE's OBPostalAddress6 / OBParty address.
type PostalAddress struct {
	AddressType        string // Residential, Business, ...
	Department         string
	SubDepartment      string
	StreetName         string
	BuildingNumber     string
	PostCode           string
	TownName           string
	CountrySubDivision string
	Country            string // ISO 3166-1 alpha-2
	AddressLines       []string
}

// Account types and subtypes (OBExternalAccountType1Code,
// OBExternalAccountSubType1Code).
const (
	AccountTypePersonal = "Personal"
	AccountTypeBusiness = "Business"

	SubTypeCurrentAccount = "CurrentAccount"
	SubTypeSavings        = "Savings"
	SubTypeCreditCard     = "CreditCard"
	SubTypeLoan           = "Loan"
	SubTypeMortgage       = "Mortgage"
	SubTypeChargeCard     = "ChargeCard"
	SubTypeEMoney         = "EMoney"
	SubTypePrePaidCard    = "PrePaidCard"
)

// Account identification schemes (OBIE namespaced enumerations).
const (
	SchemeSortCodeAccountNumber = "UK.OBIE.SortCodeAccountNumber"
	SchemeIBAN                  = "UK.OBIE.IBAN"
	SchemePAN                   = "UK.OBIE.PAN"
	SchemeBICFI                 = "UK.OBIE.BICFI"
)

// Account is one account at the bank.
type Account struct {
	ID                   string
	CustomerID           string // the primary holder
	Status               string // Enabled | Disabled | Deleted | Pending | ProForma
	StatusUpdateDateTime time.Time
	Currency             string
	Type                 string // AccountType*
	SubType              string // SubType*
	Description          string
	Nickname             string
	OpeningDate          time.Time
	MaturityDate         *time.Time
	SwitchStatus         string
	Identifications      []AccountIdentification
	Servicer             *Agent
	ProductID            string
	CreatedAt            time.Time
}

// AccountIdentification is OBIE's OBCashAccount5: one way of addressing an
// account (sort code and number, IBAN, card PAN...).
type AccountIdentification struct {
	SchemeName              string
	Identification          string
	Name                    string
	SecondaryIdentification string
}

// Agent is a financial institution (OBBranchAndFinancialInstitutionIdentification).
type Agent struct {
	SchemeName     string
	Identification string
	Name           string
	PostalAddress  *PostalAddress
}

// AccountHolder links a customer to an account they hold or act on, the
// source of GET /accounts/{AccountId}/parties.
type AccountHolder struct {
	AccountID   string
	CustomerID  string
	PartyType   string // Sole | Joint | Delegate
	AccountRole string // UK.OBIE.Principal, UK.OBIE.SecondaryOwner, ...
}

// Balance types (OBBalanceType1Code).
const (
	BalanceClosingAvailable = "ClosingAvailable"
	BalanceClosingBooked    = "ClosingBooked"
	BalanceClosingCleared   = "ClosingCleared"
	BalanceExpected         = "Expected"
	BalanceForwardAvailable = "ForwardAvailable"
	BalanceInformation      = "Information"
	BalanceInterimAvailable = "InterimAvailable"
	BalanceInterimBooked    = "InterimBooked"
	BalanceInterimCleared   = "InterimCleared"
	BalanceOpeningAvailable = "OpeningAvailable"
	BalanceOpeningBooked    = "OpeningBooked"
	BalanceOpeningCleared   = "OpeningCleared"
)

// Balance is one balance of an account at a point in time. Amount is signed:
// negative means the customer owes the bank (CreditDebitIndicator Debit).
type Balance struct {
	AccountID   string
	Type        string
	DateTime    time.Time
	Amount      Money
	CreditLines []CreditLine
}

// CreditLine is an overdraft or card limit that is, or is not, included in
// the balance (OBCreditLine).
type CreditLine struct {
	Included bool
	Type     string // Available | Credit | Emergency | Pre-Agreed | Temporary
	Amount   *Money
}

// Transaction statuses and mutability.
const (
	TxBooked   = "Booked"
	TxPending  = "Pending"
	TxRejected = "Rejected"
)

// Transaction is one entry on an account. Amount is signed: positive is a
// credit, negative a debit. BalanceAfter is the booked balance after the
// entry, when known.
type Transaction struct {
	ID                             string
	AccountID                      string
	Reference                      string
	StatementReferences            []string
	Status                         string // Booked | Pending | Rejected
	Mutability                     string // Mutable | Immutable | ""
	BookingDateTime                time.Time
	ValueDateTime                  *time.Time
	Information                    string
	AddressLine                    string
	Amount                         Money
	ChargeAmount                   *Money
	BankTransactionCode            *BankTransactionCode
	ProprietaryBankTransactionCode *ProprietaryCode
	BalanceAfter                   *Money
	Merchant                       *Merchant
	Category                       string // the bank's spending category, sent as SupplementaryData
	CreditorAgent                  *Agent
	CreditorAccount                *AccountIdentification
	DebtorAgent                    *Agent
	DebtorAccount                  *AccountIdentification
	Card                           *CardInstrument
}

// IsCredit reports whether the transaction credits the account.
func (t Transaction) IsCredit() bool { return t.Amount.IsCredit() }

// BankTransactionCode is the ISO 20022 domain/family code pair.
type BankTransactionCode struct{ Code, SubCode string }

// ProprietaryCode is a bank-specific transaction code.
type ProprietaryCode struct{ Code, Issuer string }

// Merchant is the card acceptor of a card transaction.
type Merchant struct {
	Name         string
	CategoryCode string // ISO 18245 MCC, 3-4 digits
}

// CardInstrument describes the card used for a transaction.
type CardInstrument struct {
	SchemeName        string // VISA | MasterCard | AmericanExpress | Diners | Discover
	AuthorisationType string // ConsumerDevice | Contactless | None | PIN
	Name              string
	Identification    string // the PAN; masked on the wire unless ReadPAN
}

// Beneficiary is a payee the customer has saved on an account.
type Beneficiary struct {
	ID              string
	AccountID       string
	Type            string // Trusted | Ordinary
	Reference       string
	CreditorAgent   *Agent
	CreditorAccount *AccountIdentification
}

// DirectDebit is a mandate that lets a creditor pull money from the account.
type DirectDebit struct {
	ID                      string
	AccountID               string
	MandateIdentification   string
	Status                  string // Active | Inactive
	Name                    string
	PreviousPaymentDateTime *time.Time
	Frequency               string
	PreviousPaymentAmount   *Money
}

// StandingOrder is a recurring payment the customer set up on an account.
type StandingOrder struct {
	ID                   string
	AccountID            string
	Frequency            string // OBIE frequency expression (EvryDay, IntrvlMnthDay:01:15, ...)
	Reference            string
	FirstPaymentDateTime *time.Time
	NextPaymentDateTime  *time.Time
	LastPaymentDateTime  *time.Time
	FinalPaymentDateTime *time.Time
	NumberOfPayments     string
	Status               string // Active | Inactive
	FirstPaymentAmount   *Money
	NextPaymentAmount    *Money
	LastPaymentAmount    *Money
	FinalPaymentAmount   *Money
	CreditorAgent        *Agent
	CreditorAccount      *AccountIdentification
}

// ScheduledPayment is a one-off payment due on a future date.
type ScheduledPayment struct {
	ID                       string
	AccountID                string
	ScheduledPaymentDateTime time.Time
	ScheduledType            string // Arrival | Execution
	Reference                string
	DebtorReference          string
	InstructedAmount         Money
	CreditorAgent            *Agent
	CreditorAccount          *AccountIdentification
}

// Statement is a periodic statement of an account.
type Statement struct {
	ID               string
	AccountID        string
	Reference        string
	Type             string // AccountClosure | AccountOpening | Annual | Interim | RegularPeriodic
	StartDateTime    time.Time
	EndDateTime      time.Time
	CreationDateTime time.Time
	Descriptions     []string
	Amounts          []StatementAmount // Detail only
	Fees             []StatementCharge
	Interest         []StatementCharge
	DateTimes        []StatementDateTime
	Rates            []StatementValue // Rate pattern ^(-?\d{1,3}){1}(\.\d{1,4}){0,1}$
	Values           []StatementValue
}

// StatementAmount is a typed amount on a statement (UK.OBIE.ClosingBalance,
// UK.OBIE.PaymentsIn, ...). Amount is signed.
type StatementAmount struct {
	Type   string
	Amount Money
}

// StatementCharge is a fee or interest line on a statement. Amount is signed.
type StatementCharge struct {
	Description string
	Type        string // UK.OBIE.Overdraft, UK.OBIE.Monthly, ...
	Rate        string // a decimal string, e.g. "19.9"; empty when none
	RateType    string
	Frequency   string
	Amount      Money
}

// StatementDateTime is a typed date on a statement (UK.OBIE.DirectDebitDue, ...).
type StatementDateTime struct {
	Type     string
	DateTime time.Time
}

// StatementValue is a typed rate or value on a statement.
type StatementValue struct {
	Type  string
	Value string
}

// Product is the bank product an account is opened under.
type Product struct {
	ID               string
	AccountID        string
	Name             string
	SecondaryID      string
	Type             string // PersonalCurrentAccount | BusinessCurrentAccount | CommercialCreditCard | SMELoan | Other
	MarketingStateID string
}

// Offer is a marketing offer for an account.
type Offer struct {
	ID            string
	AccountID     string
	Type          string // BalanceTransfer | LimitIncrease | MoneyTransfer | Other | PromotionalRate
	Description   string
	StartDateTime *time.Time
	EndDateTime   *time.Time
	Rate          string
	Value         *int64
	Term          string
	URL           string
	Amount        *Money
	Fee           *Money
}
