package ob

import (
	"errors"
	"testing"
	"time"
)

func TestValidIBAN(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"GB82WEST12345698765432", true}, // ISO 13616 / ECBS example
		{"DE89370400440532013000", true},
		{"FR1420041010050500013M02606", true},
		{"NL91ABNA0417164300", true},
		{"GB82WEST12345698765433", false}, // one digit changed
		{"GB28WEST12345698765432", false}, // check digits swapped
		{"GB82WEST1234569876543", false},  // GB is 22 long
		{"gb82west12345698765432", false}, // electronic form is upper case
		{"GB82 WEST 1234 5698 7654 32", false},
		{"GB82WEST12345698765432X", false},
		{"", false},
		{"GB", false},
		{"1282WEST12345698765432", false},
		{"GBXXWEST12345698765432", false},
	}
	for _, tt := range tests {
		if got := ValidIBAN(tt.in); got != tt.want {
			t.Errorf("ValidIBAN(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestNewIBAN(t *testing.T) {
	tests := []struct {
		country, bban, want string
		wantErr             bool
	}{
		{"GB", "WEST12345698765432", "GB82WEST12345698765432", false},
		{"DE", "370400440532013000", "DE89370400440532013000", false},
		{"GB", "OBNK60837112345678", "", false}, // checked by ValidIBAN below
		{"GB", "WEST1234569876543", "", true},   // too short for GB
		{"gb", "WEST12345698765432", "", true},
		{"GB", "west12345698765432", "", true},
	}
	for _, tt := range tests {
		got, err := NewIBAN(tt.country, tt.bban)
		if (err != nil) != tt.wantErr {
			t.Errorf("NewIBAN(%q, %q) error = %v, wantErr %v", tt.country, tt.bban, err, tt.wantErr)
			continue
		}
		if err != nil {
			continue
		}
		if tt.want != "" && got != tt.want {
			t.Errorf("NewIBAN(%q, %q) = %q, want %q", tt.country, tt.bban, got, tt.want)
		}
		if !ValidIBAN(got) {
			t.Errorf("NewIBAN(%q, %q) = %q, which ValidIBAN refuses", tt.country, tt.bban, got)
		}
	}
}

func TestLuhn(t *testing.T) {
	tests := []struct {
		in        string
		luhn, pan bool
	}{
		{"79927398713", true, false}, // the textbook example; too short for a card
		{"79927398710", false, false},
		{"4111111111111111", true, true},
		{"4111111111111112", false, false},
		{"5555555555554444", true, true},
		{"0", true, false},
		{"", false, false},
		{"4111 1111 1111 1111", false, false},
		{"41111111111111111111", false, false}, // 20 digits (and bad check)
	}
	for _, tt := range tests {
		if got := ValidLuhn(tt.in); got != tt.luhn {
			t.Errorf("ValidLuhn(%q) = %v, want %v", tt.in, got, tt.luhn)
		}
		if got := ValidPAN(tt.in); got != tt.pan {
			t.Errorf("ValidPAN(%q) = %v, want %v", tt.in, got, tt.pan)
		}
	}
	for _, payload := range []string{"7992739871", "411111111111111", "555555555555444", "1", "0000"} {
		d, err := LuhnCheckDigit(payload)
		if err != nil {
			t.Fatalf("LuhnCheckDigit(%q): %v", payload, err)
		}
		if !ValidLuhn(payload + string(d)) {
			t.Errorf("LuhnCheckDigit(%q) = %c, which does not pass", payload, d)
		}
	}
	if d, _ := LuhnCheckDigit("7992739871"); d != '3' {
		t.Errorf("LuhnCheckDigit(7992739871) = %c, want 3", d)
	}
	if _, err := LuhnCheckDigit("12a"); err == nil {
		t.Error("LuhnCheckDigit accepted a letter")
	}
}

func TestPatterns(t *testing.T) {
	tests := []struct {
		name string
		fn   func(string) bool
		in   string
		want bool
	}{
		{"sortcode", ValidSortCodeAccountNumber, "60837112345678", true},
		{"sortcode", ValidSortCodeAccountNumber, "608371-12345678", false},
		{"sortcode", ValidSortCodeAccountNumber, "6083711234567", false},
		{"sortcode", ValidSortCodeAccountNumber, "6083711234567X", false},
		{"frequency", ValidFrequency, "IntrvlMnthDay:01:28", true},
		{"frequency", ValidFrequency, "IntrvlMnthDay:01:-01", true},
		{"frequency", ValidFrequency, "IntrvlWkDay:01:05", true},
		{"frequency", ValidFrequency, "NotKnown", true},
		{"frequency", ValidFrequency, "QtrDay:ENGLISH", true},
		{"frequency", ValidFrequency, "IntrvlMnthDay:07:01", false},
		{"frequency", ValidFrequency, "IntrvlWkDay:01:08", false},
		{"frequency", ValidFrequency, "Monthly", false},
		{"phone", ValidPhone, "+44-7700900123", true},
		{"phone", ValidPhone, "+1-(555)0100", true},
		{"phone", ValidPhone, "07700900123", false},
		{"phone", ValidPhone, "+44 7700 900123", false},
		{"rate", ValidRate, "4.75", true},
		{"rate", ValidRate, "-0.5", true},
		{"rate", ValidRate, "22.9", true},
		{"rate", ValidRate, "0", true},
		{"rate", ValidRate, "1000", false},
		{"rate", ValidRate, "4.12345", false},
		{"rate", ValidRate, "4.", false},
		{"bic", ValidBIC, "OBNKGB2L", true},
		{"bic", ValidBIC, "OBNKGB2LXXX", true},
		{"bic", ValidBIC, "OBNKGB2", false},
		{"bic", ValidBIC, "obnkgb2l", false},
	}
	for _, tt := range tests {
		if got := tt.fn(tt.in); got != tt.want {
			t.Errorf("%s(%q) = %v, want %v", tt.name, tt.in, got, tt.want)
		}
	}
}

// validBank is a small batch that passes Validate; each case below breaks
// one thing in a fresh copy.
func validBank() *BankData {
	at := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	gbp := func(v int64) Money { return Money{Minor: v, Currency: "GBP"} }
	return &BankData{
		Customers: []Customer{
			{ID: "cus-1", Username: "amelia.jones", Name: "Amelia Jones", PartyType: "Sole", Mobile: "+44-7700900123",
				Address: &PostalAddress{AddressType: "Residential", TownName: "Leeds", Country: "GB"}},
			{ID: "cus-2", Username: "oliver.jones", Name: "Oliver Jones", LegalStructure: "UK.OBIE.Individual"},
		},
		Accounts: []Account{{
			ID: "acc-1", CustomerID: "cus-1", Status: "Enabled", Currency: "GBP", Type: AccountTypePersonal, SubType: SubTypeCurrentAccount,
			Identifications: []AccountIdentification{
				{SchemeName: SchemeSortCodeAccountNumber, Identification: "60837112345678"},
				{SchemeName: SchemeIBAN, Identification: "GB82WEST12345698765432"},
			},
			Servicer: &Agent{SchemeName: SchemeBICFI, Identification: "OBNKGB2L"},
		}, {
			ID: "acc-2", CustomerID: "cus-1", Currency: "GBP", Type: AccountTypePersonal, SubType: SubTypeCreditCard,
			Identifications: []AccountIdentification{{SchemeName: SchemePAN, Identification: "5555555555554444"}},
		}},
		AccountHolders: []AccountHolder{
			{AccountID: "acc-1", CustomerID: "cus-1", PartyType: "Joint", AccountRole: "UK.OBIE.Principal"},
			{AccountID: "acc-1", CustomerID: "cus-2", PartyType: "Joint", AccountRole: "UK.OBIE.SecondaryOwner"},
		},
		Balances: []Balance{{AccountID: "acc-1", Type: BalanceInterimBooked, DateTime: at, Amount: gbp(1000),
			CreditLines: []CreditLine{{Type: "Pre-Agreed", Amount: &Money{Minor: 50000, Currency: "GBP"}}}}},
		Transactions: []Transaction{{
			ID: "txn-1", AccountID: "acc-1", Status: TxBooked, BookingDateTime: at, Amount: gbp(-250), BalanceAfter: &Money{Minor: 1000, Currency: "GBP"},
			BankTransactionCode: &BankTransactionCode{Code: "CustomerCardTransaction", SubCode: "CardPayment"},
			Merchant:            &Merchant{Name: "Tesco", CategoryCode: "5411"},
			Card:                &CardInstrument{SchemeName: "VISA", AuthorisationType: "Contactless"},
		}},
		Beneficiaries: []Beneficiary{{ID: "ben-1", AccountID: "acc-1", Type: "Trusted", Reference: "Rent",
			CreditorAccount: &AccountIdentification{SchemeName: SchemeSortCodeAccountNumber, Identification: "20000012345678"}}},
		DirectDebits:      []DirectDebit{{ID: "dd-1", AccountID: "acc-1", MandateIdentification: "OCTO-1", Name: "Octopus Energy", Status: "Active", Frequency: "UK.OBIE.Monthly"}},
		StandingOrders:    []StandingOrder{{ID: "so-1", AccountID: "acc-1", Frequency: "IntrvlMnthDay:01:28", Status: "Active", NextPaymentAmount: &Money{Minor: 100, Currency: "GBP"}}},
		ScheduledPayments: []ScheduledPayment{{ID: "sp-1", AccountID: "acc-1", ScheduledPaymentDateTime: at, ScheduledType: "Execution", InstructedAmount: gbp(500)}},
		Statements: []Statement{{ID: "stm-1", AccountID: "acc-1", Type: "RegularPeriodic", StartDateTime: at, EndDateTime: at.Add(time.Hour), CreationDateTime: at.Add(2 * time.Hour),
			Amounts: []StatementAmount{{Type: StatementAmountClosingBalance, Amount: gbp(1000)}},
			Rates:   []StatementValue{{Type: "UK.OBIE.AnnualPurchase", Value: "22.9"}}}},
		Products: []Product{{ID: "prd-1", AccountID: "acc-1", Type: "PersonalCurrentAccount"}},
		Offers:   []Offer{{ID: "off-1", AccountID: "acc-2", Type: "BalanceTransfer", Rate: "0"}},
	}
}

func TestValidate(t *testing.T) {
	if err := validBank().Validate(); err != nil {
		t.Fatalf("the valid fixture does not validate: %v", err)
	}
	tests := []struct {
		name     string
		mutate   func(d *BankData)
		code     string
		wantPath string
	}{
		{"customer id missing", func(d *BankData) { d.Customers[1].ID = "" }, CodeFieldMissing, "Customers[1].ID"},
		{"customer id duplicate", func(d *BankData) { d.Customers[1].ID = "cus-1" }, CodeFieldInvalid, "Customers[1].ID"},
		{"username duplicate", func(d *BankData) { d.Customers[1].Username = "amelia.jones" }, CodeFieldInvalid, "Customers[1].Username"},
		{"phone pattern", func(d *BankData) { d.Customers[0].Mobile = "07700 900123" }, CodeFieldInvalid, "Customers[0].Mobile"},
		{"legal structure", func(d *BankData) { d.Customers[1].LegalStructure = "Ltd" }, CodeFieldInvalid, "Customers[1].LegalStructure"},
		{"address country", func(d *BankData) { d.Customers[0].Address.Country = "" }, CodeFieldMissing, "Customers[0].Address.Country"},
		{"account id too long", func(d *BankData) { d.Accounts[0].ID = "acc-00000000000000000000000000000000000001" }, CodeFieldInvalid, "Accounts[0].ID"},
		{"account id duplicate", func(d *BankData) { d.Accounts[1].ID = "acc-1" }, CodeFieldInvalid, "Accounts[1].ID"},
		{"account unknown customer", func(d *BankData) { d.Accounts[1].CustomerID = "cus-9" }, CodeFieldInvalid, "Accounts[1].CustomerID"},
		{"account currency", func(d *BankData) { d.Accounts[0].Currency = "gbp" }, CodeFieldInvalid, "Accounts[0].Currency"},
		{"account currency missing", func(d *BankData) { d.Accounts[0].Currency = "" }, CodeFieldMissing, "Accounts[0].Currency"},
		{"account type", func(d *BankData) { d.Accounts[0].Type = "Retail" }, CodeFieldInvalid, "Accounts[0].Type"},
		{"account subtype", func(d *BankData) { d.Accounts[0].SubType = "Checking" }, CodeFieldInvalid, "Accounts[0].SubType"},
		{"account status", func(d *BankData) { d.Accounts[0].Status = "Open" }, CodeFieldInvalid, "Accounts[0].Status"},
		{"description too long", func(d *BankData) { d.Accounts[0].Description = "An Extremely Long Account Description" }, CodeFieldInvalid, "Accounts[0].Description"},
		{"sort code 13 digits", func(d *BankData) { d.Accounts[0].Identifications[0].Identification = "6083711234567" }, CodeFieldInvalid, "Accounts[0].Identifications[0].Identification"},
		{"sort code with dashes", func(d *BankData) { d.Accounts[0].Identifications[0].Identification = "60-83-71-12345678" }, CodeFieldInvalid, "Accounts[0].Identifications[0].Identification"},
		{"iban check digits", func(d *BankData) { d.Accounts[0].Identifications[1].Identification = "GB83WEST12345698765432" }, CodeFieldInvalid, "Accounts[0].Identifications[1].Identification"},
		{"pan luhn", func(d *BankData) { d.Accounts[1].Identifications[0].Identification = "5555555555554445" }, CodeFieldInvalid, "Accounts[1].Identifications[0].Identification"},
		{"scheme", func(d *BankData) { d.Accounts[0].Identifications[0].SchemeName = "SortCode" }, CodeFieldInvalid, "Accounts[0].Identifications[0].SchemeName"},
		{"servicer bic", func(d *BankData) { d.Accounts[0].Servicer.Identification = "OBNK" }, CodeFieldInvalid, "Accounts[0].Servicer.Identification"},
		{"holder unknown account", func(d *BankData) { d.AccountHolders[0].AccountID = "acc-9" }, CodeFieldInvalid, "AccountHolders[0].AccountID"},
		{"holder unknown customer", func(d *BankData) { d.AccountHolders[1].CustomerID = "cus-9" }, CodeFieldInvalid, "AccountHolders[1].CustomerID"},
		{"holder twice", func(d *BankData) { d.AccountHolders[1].CustomerID = "cus-1" }, CodeFieldInvalid, "AccountHolders[1].CustomerID"},
		{"holder role", func(d *BankData) { d.AccountHolders[1].AccountRole = "Owner" }, CodeFieldInvalid, "AccountHolders[1].AccountRole"},
		{"balance type", func(d *BankData) { d.Balances[0].Type = "Booked" }, CodeFieldInvalid, "Balances[0].Type"},
		{"balance currency", func(d *BankData) { d.Balances[0].Amount.Currency = "EUR" }, CodeFieldInvalid, "Balances[0].Amount.Currency"},
		{"balance date", func(d *BankData) { d.Balances[0].DateTime = time.Time{} }, CodeFieldMissing, "Balances[0].DateTime"},
		{"credit line type", func(d *BankData) { d.Balances[0].CreditLines[0].Type = "Overdraft" }, CodeFieldInvalid, "Balances[0].CreditLines[0].Type"},
		{"credit line negative", func(d *BankData) { d.Balances[0].CreditLines[0].Amount.Minor = -1 }, CodeFieldInvalid, "Balances[0].CreditLines[0].Amount.Minor"},
		{"balance duplicate", func(d *BankData) { d.Balances = append(d.Balances, d.Balances[0]) }, CodeFieldInvalid, "Balances[1].Type"},
		{"tx zero booking", func(d *BankData) { d.Transactions[0].BookingDateTime = time.Time{} }, CodeFieldMissing, "Transactions[0].BookingDateTime"},
		{"tx status", func(d *BankData) { d.Transactions[0].Status = "Settled" }, CodeFieldInvalid, "Transactions[0].Status"},
		{"tx status missing", func(d *BankData) { d.Transactions[0].Status = "" }, CodeFieldMissing, "Transactions[0].Status"},
		{"tx id missing", func(d *BankData) { d.Transactions[0].ID = "" }, CodeFieldMissing, "Transactions[0].ID"},
		{"tx id duplicate", func(d *BankData) { d.Transactions = append(d.Transactions, d.Transactions[0]) }, CodeFieldInvalid, "Transactions[1].ID"},
		{"tx unknown account", func(d *BankData) { d.Transactions[0].AccountID = "acc-9" }, CodeFieldInvalid, "Transactions[0].AccountID"},
		{"tx currency", func(d *BankData) { d.Transactions[0].Amount.Currency = "USD" }, CodeFieldInvalid, "Transactions[0].Amount.Currency"},
		{"tx balance currency", func(d *BankData) { d.Transactions[0].BalanceAfter.Currency = "EUR" }, CodeFieldInvalid, "Transactions[0].BalanceAfter.Currency"},
		{"tx mcc", func(d *BankData) { d.Transactions[0].Merchant.CategoryCode = "54111" }, CodeFieldInvalid, "Transactions[0].Merchant.CategoryCode"},
		{"tx card scheme", func(d *BankData) { d.Transactions[0].Card.SchemeName = "Visa" }, CodeFieldInvalid, "Transactions[0].Card.SchemeName"},
		{"tx code", func(d *BankData) { d.Transactions[0].BankTransactionCode.SubCode = "" }, CodeFieldMissing, "Transactions[0].BankTransactionCode.SubCode"},
		{"beneficiary type", func(d *BankData) { d.Beneficiaries[0].Type = "Friend" }, CodeFieldInvalid, "Beneficiaries[0].Type"},
		{"beneficiary reference", func(d *BankData) { d.Beneficiaries[0].Reference = "a reference much longer than thirty-five" }, CodeFieldInvalid, "Beneficiaries[0].Reference"},
		{"beneficiary creditor", func(d *BankData) { d.Beneficiaries[0].CreditorAccount.Identification = "123" }, CodeFieldInvalid, "Beneficiaries[0].CreditorAccount.Identification"},
		{"dd name missing", func(d *BankData) { d.DirectDebits[0].Name = "" }, CodeFieldMissing, "DirectDebits[0].Name"},
		{"dd frequency", func(d *BankData) { d.DirectDebits[0].Frequency = "Monthly" }, CodeFieldInvalid, "DirectDebits[0].Frequency"},
		{"so frequency", func(d *BankData) { d.StandingOrders[0].Frequency = "IntrvlMnthDay:01:32" }, CodeFieldInvalid, "StandingOrders[0].Frequency"},
		{"so currency", func(d *BankData) { d.StandingOrders[0].NextPaymentAmount.Currency = "EUR" }, CodeFieldInvalid, "StandingOrders[0].NextPaymentAmount.Currency"},
		{"sp type", func(d *BankData) { d.ScheduledPayments[0].ScheduledType = "Immediate" }, CodeFieldInvalid, "ScheduledPayments[0].ScheduledType"},
		{"sp negative", func(d *BankData) { d.ScheduledPayments[0].InstructedAmount.Minor = -500 }, CodeFieldInvalid, "ScheduledPayments[0].InstructedAmount.Minor"},
		{"statement type", func(d *BankData) { d.Statements[0].Type = "Monthly" }, CodeFieldInvalid, "Statements[0].Type"},
		{"statement amount type", func(d *BankData) { d.Statements[0].Amounts[0].Type = "UK.OBIE.OpeningBalance" }, CodeFieldInvalid, "Statements[0].Amounts[0].Type"},
		{"statement end before start", func(d *BankData) { d.Statements[0].EndDateTime = d.Statements[0].StartDateTime.Add(-time.Hour) }, CodeFieldInvalid, "Statements[0].EndDateTime"},
		{"statement rate", func(d *BankData) { d.Statements[0].Rates[0].Value = "22.90001" }, CodeFieldInvalid, "Statements[0].Rates[0].Value"},
		{"product type", func(d *BankData) { d.Products[0].Type = "CurrentAccount" }, CodeFieldInvalid, "Products[0].Type"},
		{"offer rate", func(d *BankData) { d.Offers[0].Rate = "0%" }, CodeFieldInvalid, "Offers[0].Rate"},
		{"offer type", func(d *BankData) { d.Offers[0].Type = "Cashback" }, CodeFieldInvalid, "Offers[0].Type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := validBank()
			tt.mutate(d)
			err := d.Validate()
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Validate() = %v, want an *Error", err)
			}
			if e.Code != tt.code || e.Path != tt.wantPath {
				t.Errorf("Validate() = %s at %q, want %s at %q (%v)", e.Code, e.Path, tt.code, tt.wantPath, err)
			}
		})
	}
}

func TestValidateEmpty(t *testing.T) {
	if err := (&BankData{}).Validate(); err != nil {
		t.Errorf("an empty batch: %v", err)
	}
}
