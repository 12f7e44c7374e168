package payments

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/obank/obank/ob"
)

var now = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

func validDomestic() Initiation {
	return Initiation{
		InstructionIdentification: "ACME412",
		EndToEndIdentification:    "FRESCO.21302.GFX.20",
		LocalInstrument:           InstrumentFPS,
		InstructedAmount:          Amount{Amount: "165.88", Currency: "GBP"},
		CreditorAccount: Account{SchemeName: ob.SchemeSortCodeAccountNumber, Identification: "08080021325698",
			Name: "ACME Inc", SecondaryIdentification: "0002"},
		RemittanceInformation: &RemittanceInformation{Reference: "FRESCO-101", Unstructured: "Internal ops code 5120101"},
	}
}

func check(t *testing.T, err error, code, path string) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("unexpected error %v", err)
		}
		return
	}
	var e *ob.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v, want %s at %s", err, code, path)
	}
	if e.Code != code || e.Path != path {
		t.Fatalf("got %s at %s (%s), want %s at %s", e.Code, e.Path, e.Message, code, path)
	}
}

func TestValidateDomestic(t *testing.T) {
	const p = "Data.Initiation."
	cases := []struct {
		name   string
		mut    func(*Initiation)
		limits func(*Limits)
		code   string
		path   string
	}{
		{"valid", nil, nil, "", ""},
		{"minimal", func(in *Initiation) { in.LocalInstrument = ""; in.RemittanceInformation = nil }, nil, "", ""},
		{"iban creditor", func(in *Initiation) {
			in.CreditorAccount = Account{SchemeName: ob.SchemeIBAN, Identification: "GB29NWBK60161331926819", Name: "X"}
		}, nil, "", ""},
		{"legacy scheme name", func(in *Initiation) { in.CreditorAccount.SchemeName = "SortCodeAccountNumber" }, nil, "", ""},
		{"instruction id missing", func(in *Initiation) { in.InstructionIdentification = "" }, nil, ob.CodeFieldMissing, p + "InstructionIdentification"},
		{"instruction id 36", func(in *Initiation) { in.InstructionIdentification = strings.Repeat("a", 36) }, nil, ob.CodeFieldInvalid, p + "InstructionIdentification"},
		{"instruction id 35 multibyte", func(in *Initiation) { in.InstructionIdentification = strings.Repeat("é", 35) }, nil, "", ""},
		{"e2e missing", func(in *Initiation) { in.EndToEndIdentification = "" }, nil, ob.CodeFieldMissing, p + "EndToEndIdentification"},
		{"e2e 36", func(in *Initiation) { in.EndToEndIdentification = strings.Repeat("a", 36) }, nil, ob.CodeFieldInvalid, p + "EndToEndIdentification"},
		{"control char", func(in *Initiation) { in.EndToEndIdentification = "a\x00b" }, nil, ob.CodeFieldInvalid, p + "EndToEndIdentification"},
		{"bad utf8", func(in *Initiation) { in.EndToEndIdentification = "a\xffb" }, nil, ob.CodeFieldInvalid, p + "EndToEndIdentification"},
		{"blank", func(in *Initiation) { in.EndToEndIdentification = "   " }, nil, ob.CodeFieldInvalid, p + "EndToEndIdentification"},
		{"instrument unknown", func(in *Initiation) { in.LocalInstrument = "UK.OBIE.Carrier" }, nil, ob.CodeUnsupportedLocalInstrument, p + "LocalInstrument"},
		{"instrument not namespaced", func(in *Initiation) { in.LocalInstrument = "FPS" }, nil, ob.CodeUnsupportedLocalInstrument, p + "LocalInstrument"},
		{"instrument known but not offered", nil, func(l *Limits) { l.LocalInstruments = []string{InstrumentBACS} }, ob.CodeUnsupportedLocalInstrument, p + "LocalInstrument"},
		{"amount missing", func(in *Initiation) { in.InstructedAmount.Amount = "" }, nil, ob.CodeFieldMissing, p + "InstructedAmount.Amount"},
		{"currency missing", func(in *Initiation) { in.InstructedAmount.Currency = "" }, nil, ob.CodeFieldMissing, p + "InstructedAmount.Currency"},
		{"amount zero", func(in *Initiation) { in.InstructedAmount.Amount = "0.00" }, nil, ob.CodeFieldInvalid, p + "InstructedAmount.Amount"},
		{"amount negative", func(in *Initiation) { in.InstructedAmount.Amount = "-1.00" }, nil, ob.CodeFieldInvalid, p + "InstructedAmount.Amount"},
		{"amount pattern", func(in *Initiation) { in.InstructedAmount.Amount = "1,000.00" }, nil, ob.CodeFieldInvalid, p + "InstructedAmount.Amount"},
		{"amount leading dot", func(in *Initiation) { in.InstructedAmount.Amount = ".5" }, nil, ob.CodeFieldInvalid, p + "InstructedAmount.Amount"},
		{"amount sub-penny", func(in *Initiation) { in.InstructedAmount.Amount = "10.001" }, nil, ob.CodeFieldInvalid, p + "InstructedAmount.Amount"},
		{"amount trailing zeros exact", func(in *Initiation) { in.InstructedAmount.Amount = "10.10000" }, nil, "", ""},
		{"amount at max", func(in *Initiation) { in.InstructedAmount.Amount = "50000" }, nil, "", ""},
		{"amount over max", func(in *Initiation) { in.InstructedAmount.Amount = "50000.01" }, nil, ob.CodeFieldInvalid, p + "InstructedAmount.Amount"},
		{"amount over max EUR", func(in *Initiation) { in.InstructedAmount = Amount{"50000.01", "EUR"} }, nil, ob.CodeFieldInvalid, p + "InstructedAmount.Amount"},
		{"per-currency max", func(in *Initiation) { in.InstructedAmount = Amount{"60000", "USD"} }, func(l *Limits) { l.MaxAmountByCurrency = map[string]string{"USD": "100000"} }, "", ""},
		{"configured max", nil, func(l *Limits) { l.MaxAmount = "100" }, ob.CodeFieldInvalid, p + "InstructedAmount.Amount"},
		{"currency shape", func(in *Initiation) { in.InstructedAmount.Currency = "gbp" }, nil, ob.CodeFieldInvalid, p + "InstructedAmount.Currency"},
		{"currency unsupported", func(in *Initiation) { in.InstructedAmount.Currency = "CHF" }, nil, ob.CodeUnsupportedCurrency, p + "InstructedAmount.Currency"},
		{"currency whitelist configured", nil, func(l *Limits) { l.Currencies = []string{"EUR"} }, ob.CodeUnsupportedCurrency, p + "InstructedAmount.Currency"},
		{"scheme missing", func(in *Initiation) { in.CreditorAccount.SchemeName = "" }, nil, ob.CodeFieldMissing, p + "CreditorAccount.SchemeName"},
		{"scheme PAN", func(in *Initiation) { in.CreditorAccount.SchemeName = ob.SchemePAN }, nil, ob.CodeUnsupportedScheme, p + "CreditorAccount.SchemeName"},
		{"scheme BBAN", func(in *Initiation) { in.CreditorAccount.SchemeName = "UK.OBIE.BBAN" }, nil, ob.CodeUnsupportedScheme, p + "CreditorAccount.SchemeName"},
		{"scheme garbage", func(in *Initiation) { in.CreditorAccount.SchemeName = "Foo" }, nil, ob.CodeUnsupportedScheme, p + "CreditorAccount.SchemeName"},
		{"identification missing", func(in *Initiation) { in.CreditorAccount.Identification = "" }, nil, ob.CodeFieldMissing, p + "CreditorAccount.Identification"},
		{"scan 13 digits", func(in *Initiation) { in.CreditorAccount.Identification = "0808002132569" }, nil, ob.CodeFieldInvalid, p + "CreditorAccount.Identification"},
		{"scan with dashes", func(in *Initiation) { in.CreditorAccount.Identification = "08-08-0021325698" }, nil, ob.CodeFieldInvalid, p + "CreditorAccount.Identification"},
		{"iban bad check", func(in *Initiation) {
			in.CreditorAccount = Account{SchemeName: ob.SchemeIBAN, Identification: "GB28NWBK60161331926819", Name: "X"}
		}, nil, ob.CodeFieldInvalid, p + "CreditorAccount.Identification"},
		{"iban lower case", func(in *Initiation) {
			in.CreditorAccount = Account{SchemeName: ob.SchemeIBAN, Identification: "gb29nwbk60161331926819", Name: "X"}
		}, nil, ob.CodeFieldInvalid, p + "CreditorAccount.Identification"},
		{"iban country not offered", func(in *Initiation) {
			in.CreditorAccount = Account{SchemeName: ob.SchemeIBAN, Identification: "DE89370400440532013000", Name: "X"}
		}, func(l *Limits) { l.IBANCountries = []string{"GB"} }, ob.CodeUnsupportedAccountIdentifier, p + "CreditorAccount.Identification"},
		{"creditor name missing", func(in *Initiation) { in.CreditorAccount.Name = "" }, nil, ob.CodeFieldMissing, p + "CreditorAccount.Name"},
		{"creditor name 351", func(in *Initiation) { in.CreditorAccount.Name = strings.Repeat("n", 351) }, nil, ob.CodeFieldInvalid, p + "CreditorAccount.Name"},
		{"secondary 35", func(in *Initiation) { in.CreditorAccount.SecondaryIdentification = strings.Repeat("1", 35) }, nil, ob.CodeFieldInvalid, p + "CreditorAccount.SecondaryIdentification"},
		{"debtor without name ok", func(in *Initiation) {
			in.DebtorAccount = &Account{SchemeName: ob.SchemeSortCodeAccountNumber, Identification: "11280001234567"}
		}, nil, "", ""},
		{"debtor bad scheme", func(in *Initiation) {
			in.DebtorAccount = &Account{SchemeName: "UK.OBIE.Paym", Identification: "+447700900123"}
		}, nil, ob.CodeUnsupportedScheme, p + "DebtorAccount.SchemeName"},
		{"reference 35", func(in *Initiation) { in.RemittanceInformation.Reference = strings.Repeat("r", 35) }, nil, "", ""},
		{"reference 36", func(in *Initiation) { in.RemittanceInformation.Reference = strings.Repeat("r", 36) }, nil, ob.CodeFieldInvalid, p + "RemittanceInformation.Reference"},
		{"unstructured 140", func(in *Initiation) { in.RemittanceInformation.Unstructured = strings.Repeat("u", 140) }, nil, "", ""},
		{"unstructured 141", func(in *Initiation) { in.RemittanceInformation.Unstructured = strings.Repeat("u", 141) }, nil, ob.CodeFieldInvalid, p + "RemittanceInformation.Unstructured"},
		{"address country", func(in *Initiation) { in.CreditorPostalAddress = &PostalAddress{Country: "GBR"} }, nil, ob.CodeFieldInvalid, p + "CreditorPostalAddress.Country"},
		{"address 8 lines", func(in *Initiation) { in.CreditorPostalAddress = &PostalAddress{AddressLines: make([]string, 8)} }, nil, ob.CodeFieldInvalid, p + "CreditorPostalAddress.AddressLines"},
		{"address empty line", func(in *Initiation) {
			in.CreditorPostalAddress = &PostalAddress{AddressLines: []string{"1 High St", ""}}
		}, nil, ob.CodeFieldMissing, p + "CreditorPostalAddress.AddressLines[1]"},
		{"first error wins", func(in *Initiation) { in.InstructionIdentification = ""; in.CreditorAccount.Name = "" }, nil, ob.CodeFieldMissing, p + "InstructionIdentification"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := validDomestic()
			if c.mut != nil {
				c.mut(&in)
			}
			l := DefaultLimits()
			if c.limits != nil {
				c.limits(&l)
			}
			check(t, in.Validate(l, now), c.code, c.path)
		})
	}
}

func TestAllSpecInstrumentsAccepted(t *testing.T) {
	for _, li := range LocalInstruments {
		in := validDomestic()
		in.LocalInstrument = li
		if err := in.Validate(DefaultLimits(), now); err != nil {
			t.Errorf("%s: %v", li, err)
		}
	}
}

func TestMisconfiguredLimitIsInternal(t *testing.T) {
	l := DefaultLimits()
	l.MaxAmount = "lots"
	check(t, validDomestic().Validate(l, now), ob.CodeUnexpectedError, "")
}

func validScheduled() ScheduledInitiation {
	d := validDomestic()
	return ScheduledInitiation{
		InstructionIdentification:  d.InstructionIdentification,
		LocalInstrument:            d.LocalInstrument,
		RequestedExecutionDateTime: now.Add(72 * time.Hour),
		InstructedAmount:           d.InstructedAmount,
		CreditorAccount:            d.CreditorAccount,
		RemittanceInformation:      d.RemittanceInformation,
	}
}

func TestValidateScheduled(t *testing.T) {
	const p = "Data.Initiation."
	cases := []struct {
		name string
		mut  func(*ScheduledInitiation)
		code string
		path string
	}{
		{"valid without e2e", nil, "", ""},
		{"missing date", func(s *ScheduledInitiation) { s.RequestedExecutionDateTime = time.Time{} }, ob.CodeFieldMissing, p + "RequestedExecutionDateTime"},
		{"now is not future", func(s *ScheduledInitiation) { s.RequestedExecutionDateTime = now }, ob.CodeFieldInvalidDate, p + "RequestedExecutionDateTime"},
		{"past", func(s *ScheduledInitiation) { s.RequestedExecutionDateTime = now.Add(-time.Hour) }, ob.CodeFieldInvalidDate, p + "RequestedExecutionDateTime"},
		{"at horizon", func(s *ScheduledInitiation) { s.RequestedExecutionDateTime = now.Add(366 * 24 * time.Hour) }, "", ""},
		{"beyond horizon", func(s *ScheduledInitiation) { s.RequestedExecutionDateTime = now.Add(367 * 24 * time.Hour) }, ob.CodeFieldInvalidDate, p + "RequestedExecutionDateTime"},
		{"e2e too long", func(s *ScheduledInitiation) { s.EndToEndIdentification = strings.Repeat("e", 36) }, ob.CodeFieldInvalid, p + "EndToEndIdentification"},
		{"amount", func(s *ScheduledInitiation) { s.InstructedAmount.Amount = "0" }, ob.CodeFieldInvalid, p + "InstructedAmount.Amount"},
		{"creditor name", func(s *ScheduledInitiation) { s.CreditorAccount.Name = "" }, ob.CodeFieldMissing, p + "CreditorAccount.Name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := validScheduled()
			if c.mut != nil {
				c.mut(&in)
			}
			check(t, in.Validate(DefaultLimits(), now), c.code, c.path)
		})
	}
}

func validStandingOrder() StandingOrderInitiation {
	return StandingOrderInitiation{
		Frequency:              "IntrvlMnthDay:01:15",
		Reference:              "Rent",
		NumberOfPayments:       "12",
		FirstPaymentDateTime:   time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC),
		FirstPaymentAmount:     Amount{"1000.00", "GBP"},
		RecurringPaymentAmount: &Amount{"900.00", "GBP"},
		FinalPaymentAmount:     &Amount{"950.00", "GBP"},
		CreditorAccount:        Account{SchemeName: ob.SchemeSortCodeAccountNumber, Identification: "08080021325698", Name: "Landlord"},
	}
}

func TestValidateStandingOrder(t *testing.T) {
	const p = "Data.Initiation."
	first := time.Date(2026, 3, 15, 9, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		mut  func(*StandingOrderInitiation)
		code string
		path string
	}{
		{"valid", nil, "", ""},
		{"open ended", func(s *StandingOrderInitiation) { s.NumberOfPayments = ""; s.FinalPaymentAmount = nil }, "", ""},
		{"final date instead of count", func(s *StandingOrderInitiation) {
			s.NumberOfPayments = ""
			s.FinalPaymentDateTime = first.AddDate(1, 0, 0)
		}, "", ""},
		{"frequency missing", func(s *StandingOrderInitiation) { s.Frequency = "" }, ob.CodeFieldMissing, p + "Frequency"},
		{"frequency unsupported", func(s *StandingOrderInitiation) { s.Frequency = "Monthly" }, ob.CodeUnsupportedFrequency, p + "Frequency"},
		{"frequency NotKnown", func(s *StandingOrderInitiation) { s.Frequency = "NotKnown" }, ob.CodeUnsupportedFrequency, p + "Frequency"},
		{"reference 36", func(s *StandingOrderInitiation) { s.Reference = strings.Repeat("r", 36) }, ob.CodeFieldInvalid, p + "Reference"},
		{"count zero", func(s *StandingOrderInitiation) { s.NumberOfPayments = "0" }, ob.CodeFieldInvalid, p + "NumberOfPayments"},
		{"count text", func(s *StandingOrderInitiation) { s.NumberOfPayments = "twelve" }, ob.CodeFieldInvalid, p + "NumberOfPayments"},
		{"count over limit", func(s *StandingOrderInitiation) { s.NumberOfPayments = "1001" }, ob.CodeFieldInvalid, p + "NumberOfPayments"},
		{"count and final date", func(s *StandingOrderInitiation) { s.FinalPaymentDateTime = first.AddDate(1, 0, 0) }, ob.CodeFieldUnexpected, p + "NumberOfPayments"},
		{"first missing", func(s *StandingOrderInitiation) { s.FirstPaymentDateTime = time.Time{} }, ob.CodeFieldMissing, p + "FirstPaymentDateTime"},
		{"first past", func(s *StandingOrderInitiation) { s.FirstPaymentDateTime = now.Add(-time.Minute) }, ob.CodeFieldInvalidDate, p + "FirstPaymentDateTime"},
		{"first beyond horizon", func(s *StandingOrderInitiation) { s.FirstPaymentDateTime = now.AddDate(2, 0, 0) }, ob.CodeFieldInvalidDate, p + "FirstPaymentDateTime"},
		{"recurring before first", func(s *StandingOrderInitiation) { s.RecurringPaymentDateTime = first.Add(-time.Hour) }, ob.CodeFieldInvalidDate, p + "RecurringPaymentDateTime"},
		{"final not after first", func(s *StandingOrderInitiation) { s.NumberOfPayments = ""; s.FinalPaymentDateTime = first }, ob.CodeFieldInvalidDate, p + "FinalPaymentDateTime"},
		{"final before recurring", func(s *StandingOrderInitiation) {
			s.NumberOfPayments = ""
			s.RecurringPaymentDateTime = first.AddDate(0, 2, 0)
			s.FinalPaymentDateTime = first.AddDate(0, 1, 0)
		}, ob.CodeFieldInvalidDate, p + "FinalPaymentDateTime"},
		{"first amount zero", func(s *StandingOrderInitiation) { s.FirstPaymentAmount.Amount = "0" }, ob.CodeFieldInvalid, p + "FirstPaymentAmount.Amount"},
		{"recurring over max", func(s *StandingOrderInitiation) { s.RecurringPaymentAmount.Amount = "50000.01" }, ob.CodeFieldInvalid, p + "RecurringPaymentAmount.Amount"},
		{"final currency differs", func(s *StandingOrderInitiation) { s.FinalPaymentAmount.Currency = "EUR" }, ob.CodeFieldInvalid, p + "FinalPaymentAmount.Currency"},
		{"final currency unsupported", func(s *StandingOrderInitiation) { s.FinalPaymentAmount.Currency = "JPY" }, ob.CodeUnsupportedCurrency, p + "FinalPaymentAmount.Currency"},
		{"final amount on open-ended", func(s *StandingOrderInitiation) { s.NumberOfPayments = "" }, ob.CodeFieldUnexpected, p + "FinalPaymentAmount"},
		{"creditor iban bad", func(s *StandingOrderInitiation) {
			s.CreditorAccount = Account{SchemeName: ob.SchemeIBAN, Identification: "GB00NWBK60161331926819", Name: "L"}
		}, ob.CodeFieldInvalid, p + "CreditorAccount.Identification"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := validStandingOrder()
			if c.mut != nil {
				c.mut(&in)
			}
			check(t, in.Validate(DefaultLimits(), now), c.code, c.path)
		})
	}
}

func TestEqual(t *testing.T) {
	base := validDomestic()
	cases := []struct {
		name string
		mut  func(*Initiation)
		want bool
	}{
		{"identical", func(*Initiation) {}, true},
		{"amount spelled differently", func(in *Initiation) { in.InstructedAmount.Amount = "165.880" }, true},
		{"amount differs by a penny", func(in *Initiation) { in.InstructedAmount.Amount = "165.89" }, false},
		{"currency differs", func(in *Initiation) { in.InstructedAmount.Currency = "EUR" }, false},
		{"legacy scheme", func(in *Initiation) { in.CreditorAccount.SchemeName = "SortCodeAccountNumber" }, true},
		{"creditor id", func(in *Initiation) { in.CreditorAccount.Identification = "08080021325699" }, false},
		{"creditor name case", func(in *Initiation) { in.CreditorAccount.Name = "ACME INC" }, false},
		{"secondary id", func(in *Initiation) { in.CreditorAccount.SecondaryIdentification = "" }, false},
		{"reference", func(in *Initiation) {
			in.RemittanceInformation = &RemittanceInformation{Reference: "FRESCO-102", Unstructured: "Internal ops code 5120101"}
		}, false},
		{"instruction id", func(in *Initiation) { in.InstructionIdentification = "ACME413" }, false},
		{"e2e", func(in *Initiation) { in.EndToEndIdentification += "x" }, false},
		{"instrument", func(in *Initiation) { in.LocalInstrument = InstrumentBACS }, false},
		{"debtor added", func(in *Initiation) {
			in.DebtorAccount = &Account{SchemeName: ob.SchemeSortCodeAccountNumber, Identification: "11280001234567"}
		}, false},
		{"empty debtor object = absent", func(in *Initiation) { in.DebtorAccount = &Account{} }, true},
		{"address added", func(in *Initiation) { in.CreditorPostalAddress = &PostalAddress{AddressLines: []string{"1 High St"}} }, false},
		{"unparsable amounts compared as strings", func(in *Initiation) { in.InstructedAmount.Amount = "abc" }, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := validDomestic()
			b.RemittanceInformation = &RemittanceInformation{Reference: "FRESCO-101", Unstructured: "Internal ops code 5120101"}
			c.mut(&b)
			if got := Equal(base, b); got != c.want {
				t.Errorf("Equal = %v, want %v", got, c.want)
			}
			if got := Equal(b, base); got != c.want {
				t.Errorf("Equal (swapped) = %v, want %v", got, c.want)
			}
		})
	}
	// Remittance: absent equals all-empty.
	a, b := validDomestic(), validDomestic()
	a.RemittanceInformation, b.RemittanceInformation = nil, &RemittanceInformation{}
	if !Equal(a, b) {
		t.Error("nil and empty RemittanceInformation differ")
	}
}

func TestEqualScheduledAndStandingOrder(t *testing.T) {
	a, b := validScheduled(), validScheduled()
	b.RequestedExecutionDateTime = a.RequestedExecutionDateTime.In(time.FixedZone("BST", 3600))
	if !EqualScheduled(a, b) {
		t.Error("same instant in another zone should match")
	}
	b.RequestedExecutionDateTime = b.RequestedExecutionDateTime.Add(time.Second)
	if EqualScheduled(a, b) {
		t.Error("a second later should not match")
	}
	s1, s2 := validStandingOrder(), validStandingOrder()
	if !EqualStandingOrder(s1, s2) {
		t.Error("identical standing orders differ")
	}
	s2.RecurringPaymentAmount = &Amount{"900", "GBP"}
	if !EqualStandingOrder(s1, s2) {
		t.Error("900 and 900.00 differ")
	}
	s2.Frequency = "IntrvlMnthDay:01:16"
	if EqualStandingOrder(s1, s2) {
		t.Error("different frequency matched")
	}
	s2 = validStandingOrder()
	s2.FinalPaymentAmount = nil
	if EqualStandingOrder(s1, s2) {
		t.Error("dropped final amount matched")
	}
}

func TestPayeeKey(t *testing.T) {
	a := Account{SchemeName: "IBAN", Identification: "gb29nwbk60161331926819"}
	if got := a.PayeeKey(); got != "UK.OBIE.IBAN:GB29NWBK60161331926819" {
		t.Errorf("PayeeKey = %q", got)
	}
}

// TestDomainImports keeps the package pure.
func TestDomainImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/obank/obank/payments", "github.com/obank/obank/payments/risk").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		switch dep {
		case "net/http", "database/sql":
			t.Errorf("payments depends on %s", dep)
		}
	}
}
