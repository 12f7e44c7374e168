package web

import (
	"testing"

	"github.com/obank/obank/ob"
	"github.com/obank/obank/payments"
)

func TestDescribeFrequency(t *testing.T) {
	tests := []struct {
		expr, want string
	}{
		{"EvryDay", "every day"},
		{"EvryWorkgDay", "every working day"},
		{"IntrvlDay:02", "every 2 days"},
		{"IntrvlDay:15", "every 15 days"},
		{"IntrvlWkDay:01:03", "every week on Wednesday"},
		{"IntrvlWkDay:01:01", "every week on Monday"},
		{"IntrvlWkDay:02:07", "every 2 weeks on Sunday"},
		{"WkInMnthDay:01:05", "every month on the first Friday"},
		{"WkInMnthDay:03:02", "every month on the third Tuesday"},
		{"WkInMnthDay:05:05", "every month on the fifth Friday (the last Friday in months that have only four)"},
		{"IntrvlMnthDay:01:15", "every month on the 15th"},
		{"IntrvlMnthDay:01:01", "every month on the 1st"},
		{"IntrvlMnthDay:01:02", "every month on the 2nd"},
		{"IntrvlMnthDay:01:03", "every month on the 3rd"},
		{"IntrvlMnthDay:01:11", "every month on the 11th"},
		{"IntrvlMnthDay:01:22", "every month on the 22nd"},
		{"IntrvlMnthDay:03:28", "every 3 months on the 28th"},
		{"IntrvlMnthDay:01:31", "every month on the 31st (the last day in shorter months)"},
		{"IntrvlMnthDay:12:29", "every 12 months on the 29th (the last day in shorter months)"},
		{"IntrvlMnthDay:01:-01", "every month on the last day of the month"},
		{"IntrvlMnthDay:06:-02", "every 6 months on the second-last day of the month"},
		{"QtrDay:ENGLISH", "every quarter on the English quarter days (25 March, 24 June, 29 September and 25 December)"},
		{"QtrDay:SCOTTISH", "every quarter on the Scottish quarter days (2 February, 15 May, 1 August and 11 November)"},
		{"QtrDay:RECEIVED", "every quarter on the received quarter days (20 March, 19 June, 24 September and 20 December)"},
		// Not a payment frequency: shown as sent.
		{"NotKnown", "NotKnown"},
		{"IntrvlWkDay:01:08", "IntrvlWkDay:01:08"},
	}
	for _, tc := range tests {
		if got := describeFrequency(tc.expr); got != tc.want {
			t.Errorf("describeFrequency(%q) = %q, want %q", tc.expr, got, tc.want)
		}
	}
}

func TestFormatMoney(t *testing.T) {
	tests := []struct {
		in   ob.Money
		want string
	}{
		{ob.Money{Minor: 2500, Currency: "GBP"}, "£25.00"},
		{ob.Money{Minor: 5, Currency: "GBP"}, "£0.05"},
		{ob.Money{Minor: 123456789, Currency: "EUR"}, "€1,234,567.89"},
		{ob.Money{Minor: 100000, Currency: "USD"}, "$1,000.00"},
		{ob.Money{Minor: 1000, Currency: "JPY"}, "1,000 JPY"},
		{ob.Money{Minor: 12345, Currency: "CHF"}, "123.45 CHF"},
		{ob.Money{Minor: -99999, Currency: "GBP"}, "-£999.99"},
	}
	for _, tc := range tests {
		if got := formatMoney(tc.in); got != tc.want {
			t.Errorf("formatMoney(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got, want := formatAmount(payments.Amount{Amount: "12.5", Currency: "GBP"}), "£12.50"; got != want {
		t.Errorf("formatAmount(12.5 GBP) = %q, want %q", got, want)
	}
}

func TestDescribePayee(t *testing.T) {
	tests := []struct {
		in   payments.Account
		want string
	}{
		{payments.Account{SchemeName: ob.SchemeSortCodeAccountNumber, Identification: "20000012345678"}, "UK account •••• 5678"},
		{payments.Account{SchemeName: "SortCodeAccountNumber", Identification: "20000012345678"}, "UK account •••• 5678"},
		{payments.Account{SchemeName: ob.SchemeIBAN, Identification: "GB33BUKB20201555555555"}, "IBAN •••• 5555"},
	}
	for _, tc := range tests {
		if got := describePayee(tc.in); got != tc.want {
			t.Errorf("describePayee(%+v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestEveryKindNamed(t *testing.T) {
	for _, k := range []ob.ConsentKind{ob.KindAccountAccess, ob.KindDomesticPayment, ob.KindDomesticScheduledPayment,
		ob.KindDomesticStandingOrder, ob.KindFundsConfirmation} {
		if kindText[k] == "" {
			t.Errorf("consent kind %s has no name", k)
		}
	}
}
