package payments

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/obank/obank/ob"
)

// paymentFrequencyPattern is the standing-order Frequency pattern of
// payment-initiation-openapi.yaml (the AIS variant adds NotKnown, which is
// not a frequency a payment can run on).
var paymentFrequencyPattern = regexp.MustCompile(`^(EvryDay)$|^(EvryWorkgDay)$|^(IntrvlDay:((0[2-9])|([1-2][0-9])|3[0-1]))$|^(IntrvlWkDay:0[1-9]:0[1-7])$|^(WkInMnthDay:0[1-5]:0[1-7])$|^(IntrvlMnthDay:(0[1-6]|12|24):(-0[1-5]|0[1-9]|[12][0-9]|3[01]))$|^(QtrDay:(ENGLISH|SCOTTISH|RECEIVED))$`)

// FrequencyKind is the schedule code of a frequency expression.
type FrequencyKind int

const (
	EveryDay         FrequencyKind = iota + 1 // EvryDay
	EveryWorkingDay                           // EvryWorkgDay
	IntervalDay                               // IntrvlDay:NN, every NN days (02-31)
	IntervalWeekDay                           // IntrvlWkDay:0W:0D, every W weeks on ISO weekday D
	WeekInMonthDay                            // WkInMnthDay:0W:0D, monthly on the W-th weekday D
	IntervalMonthDay                          // IntrvlMnthDay:MM:DD, every MM months on day DD
	QuarterDay                                // QtrDay:ENGLISH|SCOTTISH|RECEIVED
)

// Quarter-day conventions (QtrDay).
const (
	QuarterEnglish  = "ENGLISH"
	QuarterScottish = "SCOTTISH"
	QuarterReceived = "RECEIVED"
)

// quarterDays are the spec's own dates (Frequency description in
// payment-initiation-openapi.yaml). Note SCOTTISH is the spec's 2 Feb,
// 15 May, 1 Aug, 11 Nov (the traditional Scottish term days), not the
// 28 Feb/May/Aug/Nov of the Term and Quarter Days (Scotland) Act 1990: the
// spec is the contract a TPP reads.
var quarterDays = map[string][4]struct {
	m time.Month
	d int
}{
	QuarterEnglish:  {{time.March, 25}, {time.June, 24}, {time.September, 29}, {time.December, 25}},
	QuarterScottish: {{time.February, 2}, {time.May, 15}, {time.August, 1}, {time.November, 11}},
	QuarterReceived: {{time.March, 20}, {time.June, 19}, {time.September, 24}, {time.December, 20}},
}

// Frequency is a parsed OBIE frequency expression.
//
// Semantics (decisions, documented for TPPs):
//   - the first execution is FirstPaymentDateTime itself, whatever the rule;
//     later executions are the dates after it that match the rule, at the
//     first payment's clock time and in its location (calendar arithmetic,
//     so DST changes do not shift the time of day);
//   - IntrvlDay:NN: first + k·NN days;
//   - EvryWorkgDay: every working day of Calendar after the first;
//   - IntrvlWkDay:0W:0D: the first ISO weekday D (01 = Monday … 07 = Sunday)
//     on or after the first payment, then every W weeks;
//   - WkInMnthDay:0W:0D: every month, the W-th weekday D of the month; when a
//     month has no 5th such weekday, its last one (a payment is never
//     silently skipped);
//   - IntrvlMnthDay:MM:DD: the first payment's month, then every MM months,
//     on day DD clamped to the month's last day (31 → 28/29 Feb, 30 Apr);
//     DD -01 … -05 is the last day, … the fifth-last day of the month;
//   - QtrDay: the quarter days listed in quarterDays.
type Frequency struct {
	Kind     FrequencyKind
	Interval int    // days (IntervalDay), weeks (IntervalWeekDay), months (IntervalMonthDay)
	Week     int    // WeekInMonthDay: 1-5
	Day      int    // weekday 1-7 (Monday=1), or day in month -5..-1, 1..31
	Quarter  string // QuarterDay convention
	expr     string
}

// ParseFrequency parses an expression of the spec's pattern. Anything else
// is UK.OBIE.Unsupported.Frequency at Data.Initiation.Frequency.
func ParseFrequency(s string) (Frequency, error) {
	if !paymentFrequencyPattern.MatchString(s) {
		return Frequency{}, ob.FieldError(ob.CodeUnsupportedFrequency, initiationPath+".Frequency",
			fmt.Sprintf("frequency %q is not supported; see the OBIE frequency pattern (EvryDay, EvryWorkgDay, IntrvlDay:NN, IntrvlWkDay:0W:0D, WkInMnthDay:0W:0D, IntrvlMnthDay:MM:DD, QtrDay:ENGLISH|SCOTTISH|RECEIVED)", s))
	}
	parts := strings.Split(s, ":")
	num := func(i int) int { n, _ := strconv.Atoi(parts[i]); return n } // the pattern guarantees digits
	f := Frequency{expr: s}
	switch parts[0] {
	case "EvryDay":
		f.Kind, f.Interval = EveryDay, 1
	case "EvryWorkgDay":
		f.Kind = EveryWorkingDay
	case "IntrvlDay":
		f.Kind, f.Interval = IntervalDay, num(1)
	case "IntrvlWkDay":
		f.Kind, f.Interval, f.Day = IntervalWeekDay, num(1), num(2)
	case "WkInMnthDay":
		f.Kind, f.Week, f.Day = WeekInMonthDay, num(1), num(2)
	case "IntrvlMnthDay":
		f.Kind, f.Interval, f.Day = IntervalMonthDay, num(1), num(2)
	case "QtrDay":
		f.Kind, f.Quarter = QuarterDay, parts[1]
	}
	return f, nil
}

// String returns the expression the frequency was parsed from.
func (f Frequency) String() string { return f.expr }

// Next returns the first execution strictly after `after` of the schedule
// that starts with `first` (see Frequency for the rules), using
// DefaultCalendar for working days. If after is before first, it is first.
func (f Frequency) Next(after, first time.Time) time.Time {
	return f.NextIn(DefaultCalendar, after, first)
}

// NextIn is Next with an explicit working-day calendar.
func (f Frequency) NextIn(cal Calendar, after, first time.Time) time.Time {
	if after.Before(first) {
		return first
	}
	loc := first.Location()
	after = after.In(loc)
	switch f.Kind {
	case EveryDay, IntervalDay:
		k := max(daysBetween(first, after)/f.Interval, 0)
		for ; ; k++ {
			if t := addDays(first, k*f.Interval); t.After(after) {
				return t
			}
		}
	case EveryWorkingDay:
		t := addDays(first, max(daysBetween(first, after), 0))
		for ; ; t = addDays(t, 1) {
			if t.After(after) && t.After(first) && cal.IsWorkingDay(t) {
				return t
			}
		}
	case IntervalWeekDay:
		anchor := addDays(first, (f.Day-isoWeekday(first)+7)%7)
		if anchor.After(after) {
			return anchor
		}
		step := 7 * f.Interval
		for k := daysBetween(anchor, after) / step; ; k++ {
			if t := addDays(anchor, k*step); t.After(after) {
				return t
			}
		}
	case WeekInMonthDay:
		y, m, _ := after.Date()
		for i := 0; ; i++ {
			if t := f.weekInMonth(first, y, m+time.Month(i)); t.After(after) && t.After(first) {
				return t
			}
		}
	case IntervalMonthDay:
		fy, fm, _ := first.Date()
		ay, am, _ := after.Date()
		months := (ay-fy)*12 + int(am-fm)
		for k := max(months/f.Interval-1, 0); ; k++ {
			if t := f.dayInMonth(first, fy, fm+time.Month(k*f.Interval)); t.After(after) && t.After(first) {
				return t
			}
		}
	case QuarterDay:
		for y := after.Year(); ; y++ {
			for _, q := range quarterDays[f.Quarter] {
				if t := onDate(first, y, q.m, q.d); t.After(after) && t.After(first) {
					return t
				}
			}
		}
	}
	panic(fmt.Sprintf("payments: Next on an unparsed frequency %+v", f))
}

// Schedule returns the first n executions starting with first.
func (f Frequency) Schedule(first time.Time, n int) []time.Time {
	return f.ScheduleIn(DefaultCalendar, first, n)
}

// ScheduleIn is Schedule with an explicit working-day calendar.
func (f Frequency) ScheduleIn(cal Calendar, first time.Time, n int) []time.Time {
	if n <= 0 {
		return nil
	}
	out := make([]time.Time, 0, n)
	t := first
	out = append(out, t)
	for len(out) < n {
		t = f.NextIn(cal, t, first)
		out = append(out, t)
	}
	return out
}

// weekInMonth is the w-th ISO weekday f.Day of month (y, m), or the last one
// when the month has fewer.
func (f Frequency) weekInMonth(first time.Time, y int, m time.Month) time.Time {
	start := onDate(first, y, m, 1)
	t := addDays(start, (f.Day-isoWeekday(start)+7)%7+7*(f.Week-1))
	for t.Month() != start.Month() {
		t = addDays(t, -7)
	}
	return t
}

// dayInMonth is day f.Day of month (y, m), clamped to the month's length,
// or counted from its end when negative (-1 = last day).
func (f Frequency) dayInMonth(first time.Time, y int, m time.Month) time.Time {
	start := onDate(first, y, m, 1)
	last := daysIn(start.Year(), start.Month())
	d := f.Day
	if d < 0 {
		d = last + 1 + d
	}
	return onDate(first, start.Year(), start.Month(), min(d, last))
}

// onDate is the date y-m-d (normalised) at first's clock time and location.
func onDate(first time.Time, y int, m time.Month, d int) time.Time {
	h, mi, s := first.Clock()
	return time.Date(y, m, d, h, mi, s, first.Nanosecond(), first.Location())
}

func addDays(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	return onDate(t, y, m, d+n)
}

// daysBetween counts calendar days from a's date to b's date (in a's location).
func daysBetween(a, b time.Time) int {
	ay, am, ad := a.Date()
	by, bm, bd := b.In(a.Location()).Date()
	da := time.Date(ay, am, ad, 0, 0, 0, 0, time.UTC)
	db := time.Date(by, bm, bd, 0, 0, 0, 0, time.UTC)
	return int(db.Sub(da).Hours() / 24)
}

func daysIn(y int, m time.Month) int { return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day() }

// isoWeekday is 1 for Monday … 7 for Sunday.
func isoWeekday(t time.Time) int {
	if w := t.Weekday(); w != time.Sunday {
		return int(w)
	}
	return 7
}
