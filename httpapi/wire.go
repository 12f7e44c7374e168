package httpapi

import (
	"encoding/json"

	"github.com/obank/obank/ais"
	"github.com/obank/obank/ob"
)

// The OBIE v3.1 wire shapes (account-info-openapi.yaml), with the spec's
// field names. Optional fields are omitempty: OBIE wants unset fields
// omitted, never "" or {}. Collections under Data are always present, as []
// when empty. Values arrive from package ais already redacted for the
// grant (Basic/Detail, ReadPAN), so the converters only translate.

type obLinks struct {
	Self  string `json:"Self"`
	First string `json:"First,omitempty"`
	Prev  string `json:"Prev,omitempty"`
	Next  string `json:"Next,omitempty"`
	Last  string `json:"Last,omitempty"`
}

type obMeta struct {
	TotalPages             int    `json:"TotalPages,omitempty"`
	FirstAvailableDateTime string `json:"FirstAvailableDateTime,omitempty"`
	LastAvailableDateTime  string `json:"LastAvailableDateTime,omitempty"`
}

// envelope is the {Data, Links, Meta} of every AIS response.
type envelope[D any] struct {
	Data  D       `json:"Data"`
	Links obLinks `json:"Links"`
	Meta  obMeta  `json:"Meta"`
}

type obErrorResponse1 struct {
	Code    string     `json:"Code"`
	Id      string     `json:"Id,omitempty"`
	Message string     `json:"Message"`
	Errors  []obError1 `json:"Errors"`
}

type obError1 struct {
	ErrorCode string `json:"ErrorCode"`
	Message   string `json:"Message"`
	Path      string `json:"Path,omitempty"`
	Url       string `json:"Url,omitempty"`
}

type obAmount struct {
	Amount   string `json:"Amount"`
	Currency string `json:"Currency"`
}

func amount(m ob.Money) obAmount { return obAmount{Amount: m.AmountString(), Currency: m.Currency} }

func amountPtr(m *ob.Money) *obAmount {
	if m == nil {
		return nil
	}
	a := amount(*m)
	return &a
}

// creditDebit is OBCreditDebitCode from the sign of an amount.
func creditDebit(m ob.Money) string {
	if m.IsCredit() {
		return "Credit"
	}
	return "Debit"
}

type obCashAccount struct {
	SchemeName              string `json:"SchemeName,omitempty"`
	Identification          string `json:"Identification,omitempty"`
	Name                    string `json:"Name,omitempty"`
	SecondaryIdentification string `json:"SecondaryIdentification,omitempty"`
}

func cashAccount(a ob.AccountIdentification) obCashAccount {
	return obCashAccount{
		SchemeName:              a.SchemeName,
		Identification:          a.Identification,
		Name:                    a.Name,
		SecondaryIdentification: a.SecondaryIdentification,
	}
}

func cashAccountPtr(a *ob.AccountIdentification) *obCashAccount {
	if a == nil {
		return nil
	}
	c := cashAccount(*a)
	return &c
}

// obPostalAddress is OBPostalAddress6: a party's address (AIS) and a
// creditor's (PIS Initiation).
type obPostalAddress struct {
	AddressType        string   `json:"AddressType,omitempty"`
	Department         string   `json:"Department,omitempty"`
	SubDepartment      string   `json:"SubDepartment,omitempty"`
	StreetName         string   `json:"StreetName,omitempty"`
	BuildingNumber     string   `json:"BuildingNumber,omitempty"`
	PostCode           string   `json:"PostCode,omitempty"`
	TownName           string   `json:"TownName,omitempty"`
	CountrySubDivision string   `json:"CountrySubDivision,omitempty"`
	Country            string   `json:"Country,omitempty"`
	AddressLine        []string `json:"AddressLine,omitempty"`
}

func postalAddress(a *ob.PostalAddress) *obPostalAddress {
	if a == nil {
		return nil
	}
	return &obPostalAddress{
		AddressType:        a.AddressType,
		Department:         a.Department,
		SubDepartment:      a.SubDepartment,
		StreetName:         a.StreetName,
		BuildingNumber:     a.BuildingNumber,
		PostCode:           a.PostCode,
		TownName:           a.TownName,
		CountrySubDivision: a.CountrySubDivision,
		Country:            a.Country,
		AddressLine:        a.AddressLines,
	}
}

// obAgent5 is OBBranchAndFinancialInstitutionIdentification5 (scheme and
// identification only), used by accounts, standing orders and scheduled
// payments.
type obAgent5 struct {
	SchemeName     string `json:"SchemeName"`
	Identification string `json:"Identification"`
}

func agent5(a *ob.Agent) *obAgent5 {
	if a == nil {
		return nil
	}
	return &obAgent5{SchemeName: a.SchemeName, Identification: a.Identification}
}

// obAgent6 is OBBranchAndFinancialInstitutionIdentification6, with name and
// address, used by beneficiaries and transactions.
type obAgent6 struct {
	SchemeName     string           `json:"SchemeName,omitempty"`
	Identification string           `json:"Identification,omitempty"`
	Name           string           `json:"Name,omitempty"`
	PostalAddress  *obPostalAddress `json:"PostalAddress,omitempty"`
}

func agent6(a *ob.Agent) *obAgent6 {
	if a == nil {
		return nil
	}
	return &obAgent6{SchemeName: a.SchemeName, Identification: a.Identification, Name: a.Name,
		PostalAddress: postalAddress(a.PostalAddress)}
}

// Accounts (OBReadAccount6).

type obAccountData struct {
	Account []obAccount6 `json:"Account"`
}

type obAccount6 struct {
	AccountId            string          `json:"AccountId"`
	Status               string          `json:"Status,omitempty"`
	StatusUpdateDateTime string          `json:"StatusUpdateDateTime,omitempty"`
	Currency             string          `json:"Currency,omitempty"`
	AccountType          string          `json:"AccountType,omitempty"`
	AccountSubType       string          `json:"AccountSubType,omitempty"`
	Description          string          `json:"Description,omitempty"`
	Nickname             string          `json:"Nickname,omitempty"`
	OpeningDate          string          `json:"OpeningDate,omitempty"`
	MaturityDate         string          `json:"MaturityDate,omitempty"`
	SwitchStatus         string          `json:"SwitchStatus,omitempty"`
	Account              []obCashAccount `json:"Account,omitempty"`
	Servicer             *obAgent5       `json:"Servicer,omitempty"`
}

func account(a ob.Account) obAccount6 {
	w := obAccount6{
		AccountId:            a.ID,
		Status:               a.Status,
		StatusUpdateDateTime: formatTime(a.StatusUpdateDateTime),
		Currency:             a.Currency,
		AccountType:          a.Type,
		AccountSubType:       a.SubType,
		Description:          a.Description,
		Nickname:             a.Nickname,
		OpeningDate:          formatTime(a.OpeningDate),
		MaturityDate:         formatTimePtr(a.MaturityDate),
		SwitchStatus:         a.SwitchStatus,
		Servicer:             agent5(a.Servicer),
	}
	for _, id := range a.Identifications {
		w.Account = append(w.Account, cashAccount(id))
	}
	return w
}

// Balances (OBReadBalance1).

type obBalanceData struct {
	Balance []obBalance `json:"Balance"`
}

type obBalance struct {
	AccountId            string         `json:"AccountId"`
	CreditDebitIndicator string         `json:"CreditDebitIndicator"`
	Type                 string         `json:"Type"`
	DateTime             string         `json:"DateTime"`
	Amount               obAmount       `json:"Amount"`
	CreditLine           []obCreditLine `json:"CreditLine,omitempty"`
}

type obCreditLine struct {
	Included bool      `json:"Included"`
	Type     string    `json:"Type,omitempty"`
	Amount   *obAmount `json:"Amount,omitempty"`
}

func balance(b ob.Balance) obBalance {
	w := obBalance{
		AccountId:            b.AccountID,
		CreditDebitIndicator: creditDebit(b.Amount),
		Type:                 b.Type,
		DateTime:             formatTime(b.DateTime),
		Amount:               amount(b.Amount),
	}
	for _, cl := range b.CreditLines {
		w.CreditLine = append(w.CreditLine, obCreditLine{Included: cl.Included, Type: cl.Type, Amount: amountPtr(cl.Amount)})
	}
	return w
}

// Transactions (OBReadTransaction6).

type obTransactionData struct {
	Transaction []obTransaction6 `json:"Transaction"`
}

type obTransaction6 struct {
	AccountId                      string               `json:"AccountId"`
	TransactionId                  string               `json:"TransactionId,omitempty"`
	TransactionReference           string               `json:"TransactionReference,omitempty"`
	StatementReference             []string             `json:"StatementReference,omitempty"`
	CreditDebitIndicator           string               `json:"CreditDebitIndicator"`
	Status                         string               `json:"Status"`
	TransactionMutability          string               `json:"TransactionMutability,omitempty"`
	BookingDateTime                string               `json:"BookingDateTime"`
	ValueDateTime                  string               `json:"ValueDateTime,omitempty"`
	TransactionInformation         string               `json:"TransactionInformation,omitempty"`
	AddressLine                    string               `json:"AddressLine,omitempty"`
	Amount                         obAmount             `json:"Amount"`
	ChargeAmount                   *obAmount            `json:"ChargeAmount,omitempty"`
	BankTransactionCode            *obBankTxCode        `json:"BankTransactionCode,omitempty"`
	ProprietaryBankTransactionCode *obProprietaryTxCode `json:"ProprietaryBankTransactionCode,omitempty"`
	Balance                        *obTxBalance         `json:"Balance,omitempty"`
	MerchantDetails                *obMerchant          `json:"MerchantDetails,omitempty"`
	CreditorAgent                  *obAgent6            `json:"CreditorAgent,omitempty"`
	CreditorAccount                *obCashAccount       `json:"CreditorAccount,omitempty"`
	DebtorAgent                    *obAgent6            `json:"DebtorAgent,omitempty"`
	DebtorAccount                  *obCashAccount       `json:"DebtorAccount,omitempty"`
	CardInstrument                 *obCardInstrument    `json:"CardInstrument,omitempty"`
	SupplementaryData              *obTxSupplementary   `json:"SupplementaryData,omitempty"`
}

type obBankTxCode struct {
	Code    string `json:"Code"`
	SubCode string `json:"SubCode"`
}

type obProprietaryTxCode struct {
	Code   string `json:"Code"`
	Issuer string `json:"Issuer,omitempty"`
}

// obTxBalance is OBTransactionCashBalance: the booked balance after the entry.
type obTxBalance struct {
	CreditDebitIndicator string   `json:"CreditDebitIndicator"`
	Type                 string   `json:"Type"`
	Amount               obAmount `json:"Amount"`
}

type obMerchant struct {
	MerchantName         string `json:"MerchantName,omitempty"`
	MerchantCategoryCode string `json:"MerchantCategoryCode,omitempty"`
}

type obCardInstrument struct {
	CardSchemeName    string `json:"CardSchemeName"`
	AuthorisationType string `json:"AuthorisationType,omitempty"`
	Name              string `json:"Name,omitempty"`
	Identification    string `json:"Identification,omitempty"`
}

// obTxSupplementary is obank's SupplementaryData for a transaction: the
// bank's spending category.
type obTxSupplementary struct {
	Category string `json:"Category"`
}

func transaction(t ob.Transaction) obTransaction6 {
	w := obTransaction6{
		AccountId:              t.AccountID,
		TransactionId:          t.ID,
		TransactionReference:   t.Reference,
		StatementReference:     t.StatementReferences,
		CreditDebitIndicator:   creditDebit(t.Amount),
		Status:                 t.Status,
		TransactionMutability:  t.Mutability,
		BookingDateTime:        formatTime(t.BookingDateTime),
		ValueDateTime:          formatTimePtr(t.ValueDateTime),
		TransactionInformation: t.Information,
		AddressLine:            t.AddressLine,
		Amount:                 amount(t.Amount),
		ChargeAmount:           amountPtr(t.ChargeAmount),
		CreditorAgent:          agent6(t.CreditorAgent),
		CreditorAccount:        cashAccountPtr(t.CreditorAccount),
		DebtorAgent:            agent6(t.DebtorAgent),
		DebtorAccount:          cashAccountPtr(t.DebtorAccount),
	}
	if len(w.StatementReference) == 0 {
		w.StatementReference = nil
	}
	if c := t.BankTransactionCode; c != nil {
		w.BankTransactionCode = &obBankTxCode{Code: c.Code, SubCode: c.SubCode}
	}
	if c := t.ProprietaryBankTransactionCode; c != nil {
		w.ProprietaryBankTransactionCode = &obProprietaryTxCode{Code: c.Code, Issuer: c.Issuer}
	}
	if b := t.BalanceAfter; b != nil {
		w.Balance = &obTxBalance{CreditDebitIndicator: creditDebit(*b), Type: ob.BalanceInterimBooked, Amount: amount(*b)}
	}
	if m := t.Merchant; m != nil {
		w.MerchantDetails = &obMerchant{MerchantName: m.Name, MerchantCategoryCode: m.CategoryCode}
	}
	if c := t.Card; c != nil {
		w.CardInstrument = &obCardInstrument{CardSchemeName: c.SchemeName, AuthorisationType: c.AuthorisationType,
			Name: c.Name, Identification: c.Identification}
	}
	if t.Category != "" {
		w.SupplementaryData = &obTxSupplementary{Category: t.Category}
	}
	return w
}

// Beneficiaries (OBReadBeneficiary5).

type obBeneficiaryData struct {
	Beneficiary []obBeneficiary5 `json:"Beneficiary"`
}

type obBeneficiary5 struct {
	AccountId       string         `json:"AccountId,omitempty"`
	BeneficiaryId   string         `json:"BeneficiaryId,omitempty"`
	BeneficiaryType string         `json:"BeneficiaryType,omitempty"`
	Reference       string         `json:"Reference,omitempty"`
	CreditorAgent   *obAgent6      `json:"CreditorAgent,omitempty"`
	CreditorAccount *obCashAccount `json:"CreditorAccount,omitempty"`
}

func beneficiary(b ob.Beneficiary) obBeneficiary5 {
	return obBeneficiary5{
		AccountId:       b.AccountID,
		BeneficiaryId:   b.ID,
		BeneficiaryType: b.Type,
		Reference:       b.Reference,
		CreditorAgent:   agent6(b.CreditorAgent),
		CreditorAccount: cashAccountPtr(b.CreditorAccount),
	}
}

// Direct debits (OBReadDirectDebit2).

type obDirectDebitData struct {
	DirectDebit []obDirectDebit `json:"DirectDebit"`
}

type obDirectDebit struct {
	AccountId               string    `json:"AccountId"`
	DirectDebitId           string    `json:"DirectDebitId,omitempty"`
	MandateIdentification   string    `json:"MandateIdentification"`
	DirectDebitStatusCode   string    `json:"DirectDebitStatusCode,omitempty"`
	Name                    string    `json:"Name"`
	PreviousPaymentDateTime string    `json:"PreviousPaymentDateTime,omitempty"`
	Frequency               string    `json:"Frequency,omitempty"`
	PreviousPaymentAmount   *obAmount `json:"PreviousPaymentAmount,omitempty"`
}

func directDebit(d ob.DirectDebit) obDirectDebit {
	return obDirectDebit{
		AccountId:               d.AccountID,
		DirectDebitId:           d.ID,
		MandateIdentification:   d.MandateIdentification,
		DirectDebitStatusCode:   d.Status,
		Name:                    d.Name,
		PreviousPaymentDateTime: formatTimePtr(d.PreviousPaymentDateTime),
		Frequency:               d.Frequency,
		PreviousPaymentAmount:   amountPtr(d.PreviousPaymentAmount),
	}
}

// Standing orders (OBReadStandingOrder6).

type obStandingOrderData struct {
	StandingOrder []obStandingOrder6 `json:"StandingOrder"`
}

type obStandingOrder6 struct {
	AccountId               string         `json:"AccountId"`
	StandingOrderId         string         `json:"StandingOrderId,omitempty"`
	Frequency               string         `json:"Frequency"`
	Reference               string         `json:"Reference,omitempty"`
	FirstPaymentDateTime    string         `json:"FirstPaymentDateTime,omitempty"`
	NextPaymentDateTime     string         `json:"NextPaymentDateTime,omitempty"`
	LastPaymentDateTime     string         `json:"LastPaymentDateTime,omitempty"`
	FinalPaymentDateTime    string         `json:"FinalPaymentDateTime,omitempty"`
	NumberOfPayments        string         `json:"NumberOfPayments,omitempty"`
	StandingOrderStatusCode string         `json:"StandingOrderStatusCode,omitempty"`
	FirstPaymentAmount      *obAmount      `json:"FirstPaymentAmount,omitempty"`
	NextPaymentAmount       *obAmount      `json:"NextPaymentAmount,omitempty"`
	LastPaymentAmount       *obAmount      `json:"LastPaymentAmount,omitempty"`
	FinalPaymentAmount      *obAmount      `json:"FinalPaymentAmount,omitempty"`
	CreditorAgent           *obAgent5      `json:"CreditorAgent,omitempty"`
	CreditorAccount         *obCashAccount `json:"CreditorAccount,omitempty"`
}

func standingOrder(o ob.StandingOrder) obStandingOrder6 {
	return obStandingOrder6{
		AccountId:               o.AccountID,
		StandingOrderId:         o.ID,
		Frequency:               o.Frequency,
		Reference:               o.Reference,
		FirstPaymentDateTime:    formatTimePtr(o.FirstPaymentDateTime),
		NextPaymentDateTime:     formatTimePtr(o.NextPaymentDateTime),
		LastPaymentDateTime:     formatTimePtr(o.LastPaymentDateTime),
		FinalPaymentDateTime:    formatTimePtr(o.FinalPaymentDateTime),
		NumberOfPayments:        o.NumberOfPayments,
		StandingOrderStatusCode: o.Status,
		FirstPaymentAmount:      amountPtr(o.FirstPaymentAmount),
		NextPaymentAmount:       amountPtr(o.NextPaymentAmount),
		LastPaymentAmount:       amountPtr(o.LastPaymentAmount),
		FinalPaymentAmount:      amountPtr(o.FinalPaymentAmount),
		CreditorAgent:           agent5(o.CreditorAgent),
		CreditorAccount:         cashAccountPtr(o.CreditorAccount),
	}
}

// Scheduled payments (OBReadScheduledPayment3).

type obScheduledPaymentData struct {
	ScheduledPayment []obScheduledPayment3 `json:"ScheduledPayment"`
}

type obScheduledPayment3 struct {
	AccountId                string         `json:"AccountId"`
	ScheduledPaymentId       string         `json:"ScheduledPaymentId,omitempty"`
	ScheduledPaymentDateTime string         `json:"ScheduledPaymentDateTime"`
	ScheduledType            string         `json:"ScheduledType"`
	Reference                string         `json:"Reference,omitempty"`
	DebtorReference          string         `json:"DebtorReference,omitempty"`
	InstructedAmount         obAmount       `json:"InstructedAmount"`
	CreditorAgent            *obAgent5      `json:"CreditorAgent,omitempty"`
	CreditorAccount          *obCashAccount `json:"CreditorAccount,omitempty"`
}

func scheduledPayment(p ob.ScheduledPayment) obScheduledPayment3 {
	return obScheduledPayment3{
		AccountId:                p.AccountID,
		ScheduledPaymentId:       p.ID,
		ScheduledPaymentDateTime: formatTime(p.ScheduledPaymentDateTime),
		ScheduledType:            p.ScheduledType,
		Reference:                p.Reference,
		DebtorReference:          p.DebtorReference,
		InstructedAmount:         amount(p.InstructedAmount),
		CreditorAgent:            agent5(p.CreditorAgent),
		CreditorAccount:          cashAccountPtr(p.CreditorAccount),
	}
}

// Statements (OBReadStatement2).

type obStatementData struct {
	Statement []obStatement2 `json:"Statement"`
}

type obStatement2 struct {
	AccountId            string                `json:"AccountId"`
	StatementId          string                `json:"StatementId,omitempty"`
	StatementReference   string                `json:"StatementReference,omitempty"`
	Type                 string                `json:"Type"`
	StartDateTime        string                `json:"StartDateTime"`
	EndDateTime          string                `json:"EndDateTime"`
	CreationDateTime     string                `json:"CreationDateTime"`
	StatementDescription []string              `json:"StatementDescription,omitempty"`
	StatementFee         []obStatementCharge   `json:"StatementFee,omitempty"`
	StatementInterest    []obStatementCharge   `json:"StatementInterest,omitempty"`
	StatementAmount      []obStatementAmount   `json:"StatementAmount,omitempty"`
	StatementDateTime    []obStatementDateTime `json:"StatementDateTime,omitempty"`
	StatementRate        []obStatementRate     `json:"StatementRate,omitempty"`
	StatementValue       []obStatementValue    `json:"StatementValue,omitempty"`
}

type obStatementCharge struct {
	Description          string      `json:"Description,omitempty"`
	CreditDebitIndicator string      `json:"CreditDebitIndicator"`
	Type                 string      `json:"Type"`
	Rate                 json.Number `json:"Rate,omitempty"`
	RateType             string      `json:"RateType,omitempty"`
	Frequency            string      `json:"Frequency,omitempty"`
	Amount               obAmount    `json:"Amount"`
}

type obStatementAmount struct {
	CreditDebitIndicator string   `json:"CreditDebitIndicator"`
	Type                 string   `json:"Type"`
	Amount               obAmount `json:"Amount"`
}

type obStatementDateTime struct {
	DateTime string `json:"DateTime"`
	Type     string `json:"Type"`
}

type obStatementRate struct {
	Rate string `json:"Rate"`
	Type string `json:"Type"`
}

type obStatementValue struct {
	Value string `json:"Value"`
	Type  string `json:"Type"`
}

func statement(s ob.Statement) obStatement2 {
	w := obStatement2{
		AccountId:            s.AccountID,
		StatementId:          s.ID,
		StatementReference:   s.Reference,
		Type:                 s.Type,
		StartDateTime:        formatTime(s.StartDateTime),
		EndDateTime:          formatTime(s.EndDateTime),
		CreationDateTime:     formatTime(s.CreationDateTime),
		StatementDescription: s.Descriptions,
	}
	if len(w.StatementDescription) == 0 {
		w.StatementDescription = nil
	}
	for _, f := range s.Fees {
		w.StatementFee = append(w.StatementFee, statementCharge(f))
	}
	for _, f := range s.Interest {
		w.StatementInterest = append(w.StatementInterest, statementCharge(f))
	}
	for _, a := range s.Amounts {
		w.StatementAmount = append(w.StatementAmount, obStatementAmount{
			CreditDebitIndicator: creditDebit(a.Amount), Type: a.Type, Amount: amount(a.Amount)})
	}
	for _, d := range s.DateTimes {
		w.StatementDateTime = append(w.StatementDateTime, obStatementDateTime{DateTime: formatTime(d.DateTime), Type: d.Type})
	}
	for _, r := range s.Rates {
		w.StatementRate = append(w.StatementRate, obStatementRate{Rate: r.Value, Type: r.Type})
	}
	for _, v := range s.Values {
		w.StatementValue = append(w.StatementValue, obStatementValue{Value: v.Value, Type: v.Type})
	}
	return w
}

// statementCharge converts a fee or interest line. Its Rate is a JSON
// number in the spec (OBRate1); the domain keeps the decimal string, which
// is written verbatim as a number, never through a float.
func statementCharge(c ob.StatementCharge) obStatementCharge {
	w := obStatementCharge{
		Description:          c.Description,
		CreditDebitIndicator: creditDebit(c.Amount),
		Type:                 c.Type,
		RateType:             c.RateType,
		Frequency:            c.Frequency,
		Amount:               amount(c.Amount),
	}
	if c.Rate != "" && json.Valid([]byte(c.Rate)) {
		w.Rate = json.Number(c.Rate)
	}
	return w
}

// Parties (OBReadParty2, OBReadParty3).

type obPartyData struct {
	Party obParty2 `json:"Party"`
}

type obPartiesData struct {
	Party []obParty2 `json:"Party"`
}

type obParty2 struct {
	PartyId        string           `json:"PartyId"`
	PartyNumber    string           `json:"PartyNumber,omitempty"`
	PartyType      string           `json:"PartyType,omitempty"`
	Name           string           `json:"Name,omitempty"`
	FullLegalName  string           `json:"FullLegalName,omitempty"`
	LegalStructure string           `json:"LegalStructure,omitempty"`
	AccountRole    string           `json:"AccountRole,omitempty"`
	EmailAddress   string           `json:"EmailAddress,omitempty"`
	Phone          string           `json:"Phone,omitempty"`
	Mobile         string           `json:"Mobile,omitempty"`
	Relationships  *obRelationships `json:"Relationships,omitempty"`
	Address        []obPartyAddress `json:"Address,omitempty"`
}

type obRelationships struct {
	Account obRelatedAccount `json:"Account"`
}

type obRelatedAccount struct {
	Related string `json:"Related"`
	Id      string `json:"Id"`
}

type obPartyAddress struct {
	AddressType        string   `json:"AddressType,omitempty"`
	AddressLine        []string `json:"AddressLine,omitempty"`
	StreetName         string   `json:"StreetName,omitempty"`
	BuildingNumber     string   `json:"BuildingNumber,omitempty"`
	PostCode           string   `json:"PostCode,omitempty"`
	TownName           string   `json:"TownName,omitempty"`
	CountrySubDivision string   `json:"CountrySubDivision,omitempty"`
	Country            string   `json:"Country"`
}

// party converts a party; accountURL, when set, is the absolute URL of the
// account the party was read through (Relationships.Account.Related).
func party(p ais.Party, accountURL string) obParty2 {
	c := p.Customer
	w := obParty2{
		PartyId:        c.ID,
		PartyNumber:    c.PartyNumber,
		PartyType:      p.PartyType,
		Name:           c.Name,
		FullLegalName:  c.FullLegalName,
		LegalStructure: c.LegalStructure,
		AccountRole:    p.AccountRole,
		EmailAddress:   c.Email,
		Phone:          c.Phone,
		Mobile:         c.Mobile,
	}
	if p.AccountID != "" && accountURL != "" {
		w.Relationships = &obRelationships{Account: obRelatedAccount{Related: accountURL, Id: p.AccountID}}
	}
	// OBParty2's Address requires Country; an address without one is left out
	// rather than sent invalid.
	if a := c.Address; a != nil && a.Country != "" {
		w.Address = []obPartyAddress{{
			AddressType:        a.AddressType,
			AddressLine:        a.AddressLines,
			StreetName:         a.StreetName,
			BuildingNumber:     a.BuildingNumber,
			PostCode:           a.PostCode,
			TownName:           a.TownName,
			CountrySubDivision: a.CountrySubDivision,
			Country:            a.Country,
		}}
		if len(w.Address[0].AddressLine) == 0 {
			w.Address[0].AddressLine = nil
		}
	}
	return w
}

// Products (OBReadProduct2).

type obProductData struct {
	Product []obProduct `json:"Product"`
}

type obProduct struct {
	ProductName        string `json:"ProductName,omitempty"`
	ProductId          string `json:"ProductId,omitempty"`
	AccountId          string `json:"AccountId"`
	SecondaryProductId string `json:"SecondaryProductId,omitempty"`
	ProductType        string `json:"ProductType"`
	MarketingStateId   string `json:"MarketingStateId,omitempty"`
}

func product(p ob.Product) obProduct {
	return obProduct{
		ProductName:        p.Name,
		ProductId:          p.ID,
		AccountId:          p.AccountID,
		SecondaryProductId: p.SecondaryID,
		ProductType:        p.Type,
		MarketingStateId:   p.MarketingStateID,
	}
}

// Offers (OBReadOffer1).

type obOfferData struct {
	Offer []obOffer `json:"Offer"`
}

type obOffer struct {
	AccountId     string    `json:"AccountId"`
	OfferId       string    `json:"OfferId,omitempty"`
	OfferType     string    `json:"OfferType,omitempty"`
	Description   string    `json:"Description,omitempty"`
	StartDateTime string    `json:"StartDateTime,omitempty"`
	EndDateTime   string    `json:"EndDateTime,omitempty"`
	Rate          string    `json:"Rate,omitempty"`
	Value         *int64    `json:"Value,omitempty"`
	Term          string    `json:"Term,omitempty"`
	URL           string    `json:"URL,omitempty"`
	Amount        *obAmount `json:"Amount,omitempty"`
	Fee           *obAmount `json:"Fee,omitempty"`
}

func offer(o ob.Offer) obOffer {
	return obOffer{
		AccountId:     o.AccountID,
		OfferId:       o.ID,
		OfferType:     o.Type,
		Description:   o.Description,
		StartDateTime: formatTimePtr(o.StartDateTime),
		EndDateTime:   formatTimePtr(o.EndDateTime),
		Rate:          o.Rate,
		Value:         o.Value,
		Term:          o.Term,
		URL:           o.URL,
		Amount:        amountPtr(o.Amount),
		Fee:           amountPtr(o.Fee),
	}
}

// mapSlice converts a slice, returning [] (never nil) so empty collections
// encode as [].
func mapSlice[T, W any](in []T, f func(T) W) []W {
	out := make([]W, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}
