package payments

import (
	"time"

	"github.com/obank/obank/ob"
)

// Planned is one payment of a standing order.
type Planned struct {
	At     time.Time
	Amount ob.Money
	// Last reports that no payment follows this one.
	Last bool
}

// Plan returns payment n (from 0) of the standing order: when and how
// much. ok is false when the order has no payment n (it ended).
//
// The schedule: payment 0 is FirstPaymentDateTime for FirstPaymentAmount.
// Payment 1 is RecurringPaymentDateTime when given, otherwise the
// frequency's next date after the first; later payments follow the
// frequency from the previous one. The order ends after NumberOfPayments
// payments, or with the last payment on or before FinalPaymentDateTime, or
// never. The last payment of an order that ends is for FinalPaymentAmount
// when given; every payment other than the first and the last is for
// RecurringPaymentAmount, or FirstPaymentAmount when none was given.
//
// Plan is pure and recomputes the dates from the start, so the scheduler
// stores only how many payments were made.
func (in StandingOrderInitiation) Plan(cal Calendar, n int) (p Planned, ok bool, err error) {
	if n < 0 {
		return Planned{}, false, nil
	}
	f, err := ParseFrequency(in.Frequency)
	if err != nil {
		return Planned{}, false, err
	}
	count := -1 // open-ended
	if in.NumberOfPayments != "" {
		c, valid := positiveInt(in.NumberOfPayments)
		if !valid {
			return Planned{}, false, ob.FieldError(ob.CodeFieldInvalid, initiationPath+".NumberOfPayments", "must be a positive whole number")
		}
		count = c
	}
	if count >= 0 && n >= count {
		return Planned{}, false, nil
	}
	at := in.FirstPaymentDateTime
	for i := 1; i <= n; i++ {
		at = in.nextDate(cal, f, at, i)
	}
	if !in.FinalPaymentDateTime.IsZero() && at.After(in.FinalPaymentDateTime) {
		return Planned{}, false, nil
	}
	last := count >= 0 && n == count-1
	if !last && !in.FinalPaymentDateTime.IsZero() {
		last = in.nextDate(cal, f, at, n+1).After(in.FinalPaymentDateTime)
	}
	amount := in.FirstPaymentAmount
	switch {
	case n == 0:
		// The first payment is for FirstPaymentAmount, even when it is the
		// only one.
	case last && in.FinalPaymentAmount != nil:
		amount = *in.FinalPaymentAmount
	case in.RecurringPaymentAmount != nil:
		amount = *in.RecurringPaymentAmount
	}
	m, err := amount.Money()
	if err != nil {
		return Planned{}, false, err
	}
	return Planned{At: at, Amount: m, Last: last}, true, nil
}

// nextDate is the date of payment i given payment i-1 at prev.
func (in StandingOrderInitiation) nextDate(cal Calendar, f Frequency, prev time.Time, i int) time.Time {
	if i == 1 && !in.RecurringPaymentDateTime.IsZero() {
		return in.RecurringPaymentDateTime
	}
	anchor := in.FirstPaymentDateTime
	if !in.RecurringPaymentDateTime.IsZero() {
		anchor = in.RecurringPaymentDateTime
	}
	return f.NextIn(cal, prev, anchor)
}
