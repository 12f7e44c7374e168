package payments

import "time"

// Calendar says which dates are working days (EvryWorkgDay).
type Calendar interface {
	IsWorkingDay(t time.Time) bool
}

// CalendarFunc adapts a function to Calendar.
type CalendarFunc func(time.Time) bool

// IsWorkingDay calls f.
func (f CalendarFunc) IsWorkingDay(t time.Time) bool { return f(t) }

// WeekendsOnly treats every Monday-Friday as a working day.
var WeekendsOnly Calendar = CalendarFunc(func(t time.Time) bool {
	w := t.Weekday()
	return w != time.Saturday && w != time.Sunday
})

// EnglandWales excludes weekends and the England & Wales bank holidays of
// 2025-2028 (gov.uk/bank-holidays, substitute days included). Outside those
// years only weekends are excluded: extend the table (a test cross-checks it
// against the Easter and Monday rules) rather than guess one-off holidays.
// The date is taken in the time's own location.
var EnglandWales Calendar = CalendarFunc(func(t time.Time) bool {
	if !WeekendsOnly.IsWorkingDay(t) {
		return false
	}
	y, m, d := t.Date()
	return !englandWalesHolidays[civil{y, m, d}]
})

// DefaultCalendar is the calendar Frequency.Next and Schedule use.
var DefaultCalendar = EnglandWales

type civil struct {
	y int
	m time.Month
	d int
}

var englandWalesHolidays = map[civil]bool{
	// 2025
	{2025, time.January, 1}: true, {2025, time.April, 18}: true, {2025, time.April, 21}: true,
	{2025, time.May, 5}: true, {2025, time.May, 26}: true, {2025, time.August, 25}: true,
	{2025, time.December, 25}: true, {2025, time.December, 26}: true,
	// 2026 (Boxing Day is a Saturday: substitute Monday 28 December)
	{2026, time.January, 1}: true, {2026, time.April, 3}: true, {2026, time.April, 6}: true,
	{2026, time.May, 4}: true, {2026, time.May, 25}: true, {2026, time.August, 31}: true,
	{2026, time.December, 25}: true, {2026, time.December, 28}: true,
	// 2027 (Christmas Saturday, Boxing Day Sunday: substitutes 27 and 28 December)
	{2027, time.January, 1}: true, {2027, time.March, 26}: true, {2027, time.March, 29}: true,
	{2027, time.May, 3}: true, {2027, time.May, 31}: true, {2027, time.August, 30}: true,
	{2027, time.December, 27}: true, {2027, time.December, 28}: true,
	// 2028 (New Year's Day a Saturday: substitute Monday 3 January)
	{2028, time.January, 3}: true, {2028, time.April, 14}: true, {2028, time.April, 17}: true,
	{2028, time.May, 1}: true, {2028, time.May, 29}: true, {2028, time.August, 28}: true,
	{2028, time.December, 25}: true, {2028, time.December, 26}: true,
}

// NextWorkingDay returns t if it is a working day of cal, else the next
// working day at the same clock time.
func NextWorkingDay(cal Calendar, t time.Time) time.Time {
	for !cal.IsWorkingDay(t) {
		t = addDays(t, 1)
	}
	return t
}
