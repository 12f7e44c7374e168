package payments

import (
	"fmt"
	"time"
)

// Settlement says when the money of a domestic payment to another bank
// moves, by the scheme its LocalInstrument names. Faster Payments (and an
// order that names no instrument, and the other instruments the bank
// accepts) settle at once, at any hour: that is the scheme's promise. CHAPS
// settles at once within its day (a working day, from Open until the bank's
// Cutoff for customer payments), else when the next one opens. Bacs takes
// three working days: a payment in before the bank's Bacs cut-off on a
// working day is submitted that day and credited two working days later,
// when that day opens; one after the cut-off is submitted the next working
// day. A payment to an account at this bank is a book transfer and settles
// at once whatever it names.
//
// A deferred payment is accepted (AcceptedSettlementInProcess) with its
// money taken from the customer at once into the bank's clearing account
// (ledger.ClearingAccount), funds checked then, so that it cannot be spent
// twice; the scheduler pays it to settlement when due.
type Settlement struct {
	// Location is the schemes' clock: Europe/London.
	Location *time.Location
	// Calendar gives the schemes' working days.
	Calendar Calendar
	// CHAPSOpen and CHAPSCutoff bound a working day's CHAPS payments, as
	// times of day in Location.
	CHAPSOpen, CHAPSCutoff time.Duration
	// BACSCutoff is the latest time of day a Bacs payment is submitted the
	// same working day; BACSOpen the time of day it settles, two working
	// days later.
	BACSCutoff, BACSOpen time.Duration
}

// DefaultSettlement is the UK schemes' timetable with the bank's cut-offs
// at 16:00 London time for CHAPS and 17:00 for Bacs (the schemes' own close
// later; a bank keeps a margin to submit), on the England and Wales
// calendar.
func DefaultSettlement() (Settlement, error) {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		return Settlement{}, fmt.Errorf("payments: settlement calendar: %w", err)
	}
	return Settlement{Location: loc, Calendar: DefaultCalendar,
		CHAPSOpen: 6 * time.Hour, CHAPSCutoff: 16 * time.Hour,
		BACSCutoff: 17 * time.Hour, BACSOpen: 6 * time.Hour}, nil
}

// Validate checks that the timetable makes sense.
func (s Settlement) Validate() error {
	switch {
	case s.Location == nil || s.Calendar == nil:
		return fmt.Errorf("payments: settlement needs a location and a calendar")
	case s.CHAPSOpen < 0 || s.CHAPSOpen >= s.CHAPSCutoff || s.CHAPSCutoff > 24*time.Hour:
		return fmt.Errorf("payments: CHAPS hours %s-%s are not within a day", s.CHAPSOpen, s.CHAPSCutoff)
	case s.BACSCutoff <= 0 || s.BACSCutoff > 24*time.Hour || s.BACSOpen < 0 || s.BACSOpen >= 24*time.Hour:
		return fmt.Errorf("payments: Bacs cut-off %s or opening %s is not a time of day", s.BACSCutoff, s.BACSOpen)
	}
	return nil
}

// Due returns when a payment to another bank made at with instrument
// settles, and whether that is later than at.
func (s Settlement) Due(instrument string, at time.Time) (time.Time, bool) {
	local := at.In(s.Location)
	day := midnight(local)
	// The wall clock's time of day: on the days the clocks change, the
	// time elapsed since midnight is an hour off it.
	tod := time.Duration(local.Hour())*time.Hour + time.Duration(local.Minute())*time.Minute +
		time.Duration(local.Second())*time.Second + time.Duration(local.Nanosecond())
	switch instrument {
	case InstrumentCHAPS:
		if s.Calendar.IsWorkingDay(day) && tod >= s.CHAPSOpen && tod < s.CHAPSCutoff {
			return at, false
		}
		if !s.Calendar.IsWorkingDay(day) || tod >= s.CHAPSCutoff {
			day = s.nextWorkingDay(day)
		}
		return s.at(day, s.CHAPSOpen), true
	case InstrumentBACS:
		if !s.Calendar.IsWorkingDay(day) || tod >= s.BACSCutoff {
			day = s.nextWorkingDay(day)
		}
		for range 2 {
			day = s.nextWorkingDay(day)
		}
		return s.at(day, s.BACSOpen), true
	}
	return at, false
}

// nextWorkingDay is the first working day after day (a local midnight).
func (s Settlement) nextWorkingDay(day time.Time) time.Time {
	return NextWorkingDay(s.Calendar, addDays(day, 1))
}

// at is the instant day's wall clock reads tod (not tod after midnight: a
// day with a clock change is 23 or 25 hours long).
func (s Settlement) at(day time.Time, tod time.Duration) time.Time {
	y, m, d := day.Date()
	return time.Date(y, m, d, int(tod/time.Hour), int(tod%time.Hour/time.Minute), int(tod%time.Minute/time.Second),
		int(tod%time.Second), s.Location).UTC()
}

func midnight(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, t.Location())
}
