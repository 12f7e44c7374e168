package web

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/obank/obank/ob"
	"github.com/obank/obank/payments"
)

// kindText names each consent kind on the dashboard.
var kindText = map[ob.ConsentKind]string{
	ob.KindAccountAccess:            "Account information",
	ob.KindDomesticPayment:          "Payment",
	ob.KindDomesticScheduledPayment: "Scheduled payment",
	ob.KindDomesticStandingOrder:    "Standing order",
	ob.KindFundsConfirmation:        "Funds checks",
}

// weekdayText is indexed by ISO weekday (1 = Monday … 7 = Sunday), as OBIE
// frequencies count them.
var weekdayText = [8]string{"", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}

// nthText are the words of WkInMnthDay's week and of IntrvlMnthDay's days
// counted from the month's end.
var nthText = [6]string{"", "first", "second", "third", "fourth", "fifth"}

// quarterText lists the quarter days of each QtrDay convention; the dates
// are the spec's, as payments.Frequency applies them.
var quarterText = map[string]string{
	payments.QuarterEnglish:  "on the English quarter days (25 March, 24 June, 29 September and 25 December)",
	payments.QuarterScottish: "on the Scottish quarter days (2 February, 15 May, 1 August and 11 November)",
	payments.QuarterReceived: "on the received quarter days (20 March, 19 June, 24 September and 20 December)",
}

// describeFrequency says in plain English when a standing order pays, e.g.
// "every week on Wednesday" for IntrvlWkDay:01:03. An expression it cannot
// parse is returned as it is.
func describeFrequency(expr string) string {
	f, err := payments.ParseFrequency(expr)
	if err != nil {
		return expr
	}
	switch f.Kind {
	case payments.EveryDay:
		return "every day"
	case payments.EveryWorkingDay:
		return "every working day"
	case payments.IntervalDay:
		return every(f.Interval, "day", "days")
	case payments.IntervalWeekDay:
		return every(f.Interval, "week", "weeks") + " on " + weekdayText[f.Day]
	case payments.WeekInMonthDay:
		s := "every month on the " + nthText[f.Week] + " " + weekdayText[f.Day]
		if f.Week == 5 {
			s += " (the last " + weekdayText[f.Day] + " in months that have only four)"
		}
		return s
	case payments.IntervalMonthDay:
		s := every(f.Interval, "month", "months") + " on the "
		switch {
		case f.Day == -1:
			return s + "last day of the month"
		case f.Day < 0:
			return s + nthText[-f.Day] + "-last day of the month"
		case f.Day > 28:
			return s + ordinal(f.Day) + " (the last day in shorter months)"
		}
		return s + ordinal(f.Day)
	case payments.QuarterDay:
		return "every quarter " + quarterText[f.Quarter]
	}
	return expr
}

// every is "every week", "every 2 weeks".
func every(n int, one, many string) string {
	if n == 1 {
		return "every " + one
	}
	return "every " + strconv.Itoa(n) + " " + many
}

// ordinal is 1st, 2nd, 3rd, 4th, … 11th, 12th, 13th, … 21st.
func ordinal(n int) string {
	suffix := "th"
	if n%100 < 11 || n%100 > 13 {
		switch n % 10 {
		case 1:
			suffix = "st"
		case 2:
			suffix = "nd"
		case 3:
			suffix = "rd"
		}
	}
	return strconv.Itoa(n) + suffix
}

// currencySymbol is the sign written before an amount; other currencies
// are written after it by their code.
var currencySymbol = map[string]string{"GBP": "£", "EUR": "€", "USD": "$"}

// formatMoney writes an amount for people: "£1,234.50", "1,000 JPY".
func formatMoney(m ob.Money) string {
	s := m.AmountString()
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	if m.Minor < 0 {
		b.WriteString("-")
	}
	sym, ok := currencySymbol[m.Currency]
	if ok {
		b.WriteString(sym)
	}
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if frac != "" {
		b.WriteString("." + frac)
	}
	if !ok {
		b.WriteString(" " + m.Currency)
	}
	return b.String()
}

// formatAmount is formatMoney of a wire amount, or the amount as sent when
// it does not parse (validation refused such consents; never fail a page
// for it).
func formatAmount(a payments.Amount) string {
	m, err := a.Money()
	if err != nil {
		return a.Amount + " " + a.Currency
	}
	return formatMoney(m)
}

// describePayee describes a creditor account with all but the last four
// characters of its number hidden: "UK account •••• 5678".
func describePayee(a payments.Account) string {
	switch payments.NormaliseScheme(a.SchemeName) {
	case ob.SchemeSortCodeAccountNumber:
		return "UK account " + maskNumber(a.Identification)
	case ob.SchemeIBAN:
		return "IBAN " + maskNumber(a.Identification)
	}
	return fmt.Sprintf("Account %s", maskNumber(a.Identification))
}
