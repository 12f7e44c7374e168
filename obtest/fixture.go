package obtest

import (
	"fmt"
	"time"

	"github.com/obank/obank/ob"
)

// Fixture IDs. They are part of the fixture's contract: tests elsewhere may
// rely on them.
const (
	// Alice is a personal customer (username "alice") holding Acc1 alone and
	// Acc2 jointly with Bob, as principal.
	Alice = "cust-001"
	// Bob is a business customer (username "bob") holding Acc3 alone and
	// Acc2 as secondary owner. His Address is nil.
	Bob = "cust-002"

	// Acc1 is Alice's current account; every optional field is set.
	Acc1 = "acc-001"
	// Acc2 is the joint savings account: optional pointers nil.
	Acc2 = "acc-002"
	// Acc3 is Bob's business credit card (PAN identification).
	Acc3 = "acc-003"
)

// FixtureTime returns the fixture's reference instant, 2026-01-15
// 09:30:00.123456 UTC; every time in the fixture is derived from it. It has
// microsecond precision, the stores' precision.
func FixtureTime() time.Time { return time.Date(2026, 1, 15, 9, 30, 0, 123456000, time.UTC) }

func at(d time.Duration) time.Time { return FixtureTime().Add(d) }

func ptr[T any](v T) *T { return &v }

func gbp(minor int64) ob.Money { return ob.Money{Minor: minor, Currency: "GBP"} }

// Fixture returns a small, deterministic bank: customers Alice and Bob,
// accounts Acc1, Acc2 and Acc3, and rows of every entity type. The first row
// of each type sets every field (nested agents, addresses, identifications,
// optional times and amounts); later rows leave optional fields nil, so a
// store must keep nil and set apart. All times are UTC with microsecond
// precision. Each call returns a fresh copy that callers may modify.
//
// Contents, by account:
//
//	Acc1 (Alice): 2 balances, 4 transactions, 1 beneficiary, 1 direct debit,
//	              1 standing order, 1 scheduled payment, 2 statements (Jan, Feb),
//	              product PCA-STD, 1 offer
//	Acc2 (Alice+Bob): 1 balance, 1 transaction, 1 of each payment type with
//	              optional fields nil, 1 statement (Jan), product PCA-STD, 1 offer
//	Acc3 (Bob):   1 balance (negative), 1 card transaction, product BCC-1
//
// The fixture is a shared test contract: add to it only at the end of a list,
// never change existing values.
func Fixture() *ob.BankData {
	fullAddress := func() *ob.PostalAddress {
		return &ob.PostalAddress{
			AddressType:        "Business",
			Department:         "Payments",
			SubDepartment:      "Open Banking",
			StreetName:         "Threadneedle Street",
			BuildingNumber:     "1",
			PostCode:           "EC2R 8AH",
			TownName:           "London",
			CountrySubDivision: "Greater London",
			Country:            "GB",
			AddressLines:       []string{"Floor 3", "East Wing"},
		}
	}
	servicer := func() *ob.Agent {
		return &ob.Agent{SchemeName: ob.SchemeBICFI, Identification: "OBNKGB2L", Name: "obank plc", PostalAddress: fullAddress()}
	}
	creditorAcct := func() *ob.AccountIdentification {
		return &ob.AccountIdentification{SchemeName: ob.SchemeSortCodeAccountNumber, Identification: "40400411270111",
			Name: "Mr Landlord", SecondaryIdentification: "ROLL-0042"}
	}

	d := &ob.BankData{
		Customers: []ob.Customer{{
			ID: Alice, Username: "alice", PasswordHash: "$argon2id$v=19$m=65536,t=3,p=2$c2FsdA$aGFzaA",
			PartyNumber: "0000001", PartyType: "Sole", Name: "Alice Smith", FullLegalName: "Alice Jane Smith",
			LegalStructure: "", Email: "alice@example.com", Phone: "+44-2079460000", Mobile: "+44-7700900001",
			Address: &ob.PostalAddress{AddressType: "Residential", StreetName: "Acacia Avenue", BuildingNumber: "22",
				PostCode: "SW1A 1AA", TownName: "London", Country: "GB", AddressLines: []string{"Flat 2"}},
			CreatedAt: at(-400 * 24 * time.Hour),
		}, {
			ID: Bob, Username: "bob", PasswordHash: "", PartyNumber: "0000002", PartyType: "Sole",
			Name: "Bob's Bikes", FullLegalName: "Bob's Bikes Ltd", LegalStructure: "UK.OBIE.PrivateLimitedCompany",
			Email: "bob@example.com", Phone: "+44-1612345678", Mobile: "",
			CreatedAt: at(-300 * 24 * time.Hour),
		}},
		Accounts: []ob.Account{{
			ID: Acc1, CustomerID: Alice, Status: "Enabled", StatusUpdateDateTime: at(-10 * time.Hour),
			Currency: "GBP", Type: ob.AccountTypePersonal, SubType: ob.SubTypeCurrentAccount,
			Description: "Current account", Nickname: "Bills", OpeningDate: at(-399 * 24 * time.Hour),
			MaturityDate: ptr(at(3650 * 24 * time.Hour)), SwitchStatus: "UK.CASS.NotSwitched",
			Identifications: []ob.AccountIdentification{
				{SchemeName: ob.SchemeSortCodeAccountNumber, Identification: "60000112345678", Name: "A Smith", SecondaryIdentification: "0001"},
				{SchemeName: ob.SchemeIBAN, Identification: "GB58OBNK60000112345678", Name: "A Smith"},
			},
			Servicer: servicer(), ProductID: "PCA-STD", CreatedAt: at(-399 * 24 * time.Hour),
		}, {
			ID: Acc2, CustomerID: Alice, Status: "Enabled", StatusUpdateDateTime: at(-20 * time.Hour),
			Currency: "GBP", Type: ob.AccountTypePersonal, SubType: ob.SubTypeSavings,
			Description: "Joint saver", OpeningDate: at(-200 * 24 * time.Hour),
			Identifications: []ob.AccountIdentification{
				{SchemeName: ob.SchemeSortCodeAccountNumber, Identification: "60000187654321", Name: "A Smith & Bob's Bikes"},
			},
			ProductID: "PCA-STD", CreatedAt: at(-200 * 24 * time.Hour),
		}, {
			ID: Acc3, CustomerID: Bob, Status: "Enabled", StatusUpdateDateTime: at(-30 * time.Hour),
			Currency: "GBP", Type: ob.AccountTypeBusiness, SubType: ob.SubTypeCreditCard,
			Description: "Business card", Nickname: "Card", OpeningDate: at(-100 * 24 * time.Hour),
			Identifications: []ob.AccountIdentification{
				{SchemeName: ob.SchemePAN, Identification: "4929000000006", Name: "Bob's Bikes Ltd"},
			},
			Servicer:  &ob.Agent{SchemeName: ob.SchemeBICFI, Identification: "OBNKGB2L"},
			ProductID: "BCC-1", CreatedAt: at(-100 * 24 * time.Hour),
		}},
		AccountHolders: []ob.AccountHolder{
			{AccountID: Acc1, CustomerID: Alice, PartyType: "Sole", AccountRole: "UK.OBIE.Principal"},
			{AccountID: Acc2, CustomerID: Bob, PartyType: "Joint", AccountRole: "UK.OBIE.SecondaryOwner"},
			{AccountID: Acc2, CustomerID: Alice, PartyType: "Joint", AccountRole: "UK.OBIE.Principal"},
			{AccountID: Acc3, CustomerID: Bob, PartyType: "Sole", AccountRole: "UK.OBIE.Principal"},
		},
		Balances: []ob.Balance{{
			AccountID: Acc1, Type: ob.BalanceInterimAvailable, DateTime: at(0), Amount: gbp(123456),
			CreditLines: []ob.CreditLine{
				{Included: true, Type: "Pre-Agreed", Amount: ptr(gbp(50000))},
				{Included: false, Type: "Emergency"},
			},
		}, {
			AccountID: Acc1, Type: ob.BalanceClosingBooked, DateTime: at(-9 * time.Hour), Amount: gbp(120000),
		}, {
			AccountID: Acc2, Type: ob.BalanceClosingBooked, DateTime: at(-9 * time.Hour), Amount: gbp(0),
			CreditLines: []ob.CreditLine{},
		}, {
			AccountID: Acc3, Type: ob.BalanceClosingBooked, DateTime: at(-9 * time.Hour), Amount: gbp(-45678),
			CreditLines: []ob.CreditLine{{Included: true, Type: "Credit", Amount: ptr(gbp(500000))}},
		}},
		Transactions: []ob.Transaction{{
			ID: "tx-001", AccountID: Acc1, Reference: "RENT JAN", StatementReferences: []string{"stmt-001-01"},
			Status: ob.TxBooked, Mutability: "Immutable", BookingDateTime: at(-48 * time.Hour),
			ValueDateTime: ptr(at(-47 * time.Hour)), Information: "Monthly rent", AddressLine: "1 Landlord Lane",
			Amount: gbp(-95000), ChargeAmount: ptr(gbp(-25)),
			BankTransactionCode:            &ob.BankTransactionCode{Code: "ReceivedCreditTransfer", SubCode: "DomesticCreditTransfer"},
			ProprietaryBankTransactionCode: &ob.ProprietaryCode{Code: "FPS", Issuer: "obank"},
			BalanceAfter:                   ptr(gbp(25000)), Category: "housing",
			CreditorAgent: servicer(), CreditorAccount: creditorAcct(),
			DebtorAgent: &ob.Agent{SchemeName: ob.SchemeBICFI, Identification: "OBNKGB2L"},
			DebtorAccount: &ob.AccountIdentification{SchemeName: ob.SchemeSortCodeAccountNumber,
				Identification: "60000112345678", Name: "A Smith"},
		}, {
			ID: "tx-002", AccountID: Acc1, Reference: "SALARY", Status: ob.TxBooked, Mutability: "Immutable",
			BookingDateTime: at(-72 * time.Hour), Amount: gbp(250000), Category: "income",
			StatementReferences: []string{},
		}, {
			ID: "tx-003", AccountID: Acc1, Reference: "COFFEE", Status: ob.TxPending, Mutability: "Mutable",
			BookingDateTime: at(-1 * time.Hour), Amount: gbp(-350),
			Merchant: &ob.Merchant{Name: "Bean There", CategoryCode: "5814"},
			Card: &ob.CardInstrument{SchemeName: "VISA", AuthorisationType: "Contactless", Name: "A SMITH",
				Identification: "4929000000001234"},
		}, {
			// Same booking time as tx-001: ties are ordered by ID.
			ID: "tx-004", AccountID: Acc1, Reference: "REFUND", Status: ob.TxBooked,
			BookingDateTime: at(-48 * time.Hour), Amount: gbp(0),
		}, {
			ID: "tx-101", AccountID: Acc2, Reference: "SAVE", Status: ob.TxBooked, Mutability: "Immutable",
			BookingDateTime: at(-24 * time.Hour), Amount: gbp(10000), BalanceAfter: ptr(gbp(10000)),
		}, {
			ID: "tx-201", AccountID: Acc3, Reference: "BIKE PARTS", Status: ob.TxBooked,
			BookingDateTime: at(-5 * time.Hour), ValueDateTime: ptr(at(-5 * time.Hour)), Amount: gbp(-45678),
			Merchant: &ob.Merchant{Name: "Parts Ltd", CategoryCode: "5940"},
			Card:     &ob.CardInstrument{SchemeName: "MasterCard", AuthorisationType: "PIN"},
		}},
		Beneficiaries: []ob.Beneficiary{{
			ID: "ben-001", AccountID: Acc1, Type: "Trusted", Reference: "Rent",
			CreditorAgent: servicer(), CreditorAccount: creditorAcct(),
		}, {
			ID: "ben-101", AccountID: Acc2, Type: "Ordinary",
		}},
		DirectDebits: []ob.DirectDebit{{
			ID: "dd-001", AccountID: Acc1, MandateIdentification: "MANDATE-42", Status: "Active",
			Name: "Energy Co", PreviousPaymentDateTime: ptr(at(-30 * 24 * time.Hour)), Frequency: "UK.OBIE.Monthly",
			PreviousPaymentAmount: ptr(gbp(8900)),
		}, {
			ID: "dd-101", AccountID: Acc2, MandateIdentification: "MANDATE-43", Status: "Inactive", Name: "Gym",
		}},
		StandingOrders: []ob.StandingOrder{{
			ID: "so-001", AccountID: Acc1, Frequency: "IntrvlMnthDay:01:15", Reference: "Pocket money",
			FirstPaymentDateTime: ptr(at(-90 * 24 * time.Hour)), NextPaymentDateTime: ptr(at(30 * 24 * time.Hour)),
			LastPaymentDateTime: ptr(at(-1 * 24 * time.Hour)), FinalPaymentDateTime: ptr(at(365 * 24 * time.Hour)),
			NumberOfPayments: "12", Status: "Active",
			FirstPaymentAmount: ptr(gbp(1000)), NextPaymentAmount: ptr(gbp(1000)),
			LastPaymentAmount: ptr(gbp(1000)), FinalPaymentAmount: ptr(gbp(1500)),
			CreditorAgent: servicer(), CreditorAccount: creditorAcct(),
		}, {
			ID: "so-101", AccountID: Acc2, Frequency: "EvryDay", Status: "Inactive",
		}},
		ScheduledPayments: []ob.ScheduledPayment{{
			ID: "sp-001", AccountID: Acc1, ScheduledPaymentDateTime: at(10 * 24 * time.Hour), ScheduledType: "Execution",
			Reference: "Holiday", DebtorReference: "Trip", InstructedAmount: gbp(60000),
			CreditorAgent: servicer(), CreditorAccount: creditorAcct(),
		}, {
			ID: "sp-101", AccountID: Acc2, ScheduledPaymentDateTime: at(20 * 24 * time.Hour), ScheduledType: "Arrival",
			InstructedAmount: ob.Money{Minor: 5000, Currency: "EUR"},
		}},
		Statements: []ob.Statement{
			statement(Acc1, "stmt-001-02", time.February, true),
			statement(Acc1, "stmt-001-01", time.January, true),
			statement(Acc2, "stmt-002-01", time.January, false),
		},
		Products: []ob.Product{
			{ID: "PCA-STD", AccountID: Acc1, Name: "Standard current account", SecondaryID: "PCA-STD-2026",
				Type: "PersonalCurrentAccount", MarketingStateID: "MS-1"},
			{ID: "PCA-STD", AccountID: Acc2, Name: "Standard current account", Type: "PersonalCurrentAccount"},
			{ID: "BCC-1", AccountID: Acc3, Name: "Business card", Type: "CommercialCreditCard"},
		},
		Offers: []ob.Offer{{
			ID: "off-001", AccountID: Acc1, Type: "LimitIncrease", Description: "More overdraft",
			StartDateTime: ptr(at(0)), EndDateTime: ptr(at(60 * 24 * time.Hour)), Rate: "19.9", Value: ptr(int64(3)),
			Term: "Two months", URL: "https://bank.example/offers/1", Amount: ptr(gbp(100000)), Fee: ptr(gbp(500)),
		}, {
			ID: "off-101", AccountID: Acc2, Type: "Other", Description: "Ask us",
		}},
	}
	return d
}

// statement returns a monthly statement of 2026. With full set, every list
// is populated; otherwise they are nil.
func statement(accountID, id string, month time.Month, full bool) ob.Statement {
	start := time.Date(2026, month, 1, 0, 0, 0, 0, time.UTC)
	end := start.AddDate(0, 1, 0).Add(-time.Microsecond)
	s := ob.Statement{
		ID: id, AccountID: accountID, Reference: fmt.Sprintf("%s/%02d", accountID, month), Type: "RegularPeriodic",
		StartDateTime: start, EndDateTime: end, CreationDateTime: end.Add(2 * time.Hour),
	}
	if !full {
		return s
	}
	s.Descriptions = []string{"Monthly statement", "Thank you for banking with us"}
	s.Amounts = []ob.StatementAmount{
		{Type: "UK.OBIE.ClosingBalance", Amount: gbp(120000)},
		{Type: ob.StatementAmountTotalDebits, Amount: gbp(-95350)},
	}
	s.Fees = []ob.StatementCharge{{Description: "Monthly fee", Type: "UK.OBIE.Monthly", Rate: "19.9",
		RateType: "UK.OBIE.AER", Frequency: "UK.OBIE.StatementMonthly", Amount: gbp(-500)}}
	s.Interest = []ob.StatementCharge{{Type: "UK.OBIE.Total", Amount: gbp(12)}}
	s.DateTimes = []ob.StatementDateTime{{Type: "UK.OBIE.DirectDebitDue", DateTime: start.AddDate(0, 0, 20).Add(123 * time.Microsecond)}}
	s.Rates = []ob.StatementValue{{Type: "UK.OBIE.AnnualCash", Value: "1.25"}}
	s.Values = []ob.StatementValue{{Type: "UK.OBIE.AirMilesPoints", Value: "42"}}
	return s
}
