package payments

import (
	"testing"
	"time"

	"github.com/obank/obank/ob"
)

func d(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 9, 30, 0, 0, time.UTC) }

func TestParseFrequency(t *testing.T) {
	good := map[string]Frequency{
		"EvryDay":              Frequency{Kind: EveryDay, Interval: 1},
		"EvryWorkgDay":         {Kind: EveryWorkingDay},
		"IntrvlDay:02":         {Kind: IntervalDay, Interval: 2},
		"IntrvlDay:31":         {Kind: IntervalDay, Interval: 31},
		"IntrvlWkDay:01:03":    {Kind: IntervalWeekDay, Interval: 1, Day: 3},
		"IntrvlWkDay:09:07":    {Kind: IntervalWeekDay, Interval: 9, Day: 7},
		"WkInMnthDay:05:01":    {Kind: WeekInMonthDay, Week: 5, Day: 1},
		"IntrvlMnthDay:01:-01": {Kind: IntervalMonthDay, Interval: 1, Day: -1},
		"IntrvlMnthDay:24:31":  {Kind: IntervalMonthDay, Interval: 24, Day: 31},
		"IntrvlMnthDay:12:-05": {Kind: IntervalMonthDay, Interval: 12, Day: -5},
		"QtrDay:ENGLISH":       {Kind: QuarterDay, Quarter: QuarterEnglish},
		"QtrDay:SCOTTISH":      {Kind: QuarterDay, Quarter: QuarterScottish},
		"QtrDay:RECEIVED":      {Kind: QuarterDay, Quarter: QuarterReceived},
	}
	for s, want := range good {
		f, err := ParseFrequency(s)
		if err != nil {
			t.Errorf("%s: %v", s, err)
			continue
		}
		want.expr = s
		if f != want {
			t.Errorf("%s: got %+v, want %+v", s, f, want)
		}
		if f.String() != s {
			t.Errorf("String() = %q", f.String())
		}
	}
	bad := []string{"", "NotKnown", "evryday", "EvryDay ", "IntrvlDay:01", "IntrvlDay:32", "IntrvlDay:2",
		"IntrvlWkDay:10:01", "IntrvlWkDay:01:08", "IntrvlWkDay:00:01", "WkInMnthDay:06:01", "WkInMnthDay:01:00",
		"IntrvlMnthDay:07:01", "IntrvlMnthDay:12:00", "IntrvlMnthDay:01:-06", "IntrvlMnthDay:01:32",
		"QtrDay:WELSH", "Monthly", "IntrvlMnthDay:01:15:01"}
	for _, s := range bad {
		_, err := ParseFrequency(s)
		check(t, err, ob.CodeUnsupportedFrequency, "Data.Initiation.Frequency")
	}
}

func TestSchedule(t *testing.T) {
	cases := []struct {
		expr  string
		first time.Time
		want  []time.Time
	}{
		{"EvryDay", d(2026, 2, 27), []time.Time{d(2026, 2, 27), d(2026, 2, 28), d(2026, 3, 1), d(2026, 3, 2)}},
		// Fri 2026-04-03 Good Friday, Mon 04-06 Easter Monday: first is a Thursday.
		{"EvryWorkgDay", d(2026, 4, 2), []time.Time{d(2026, 4, 2), d(2026, 4, 7), d(2026, 4, 8)}},
		// First on a Saturday: still executed (the TPP chose it); then Monday.
		{"EvryWorkgDay", d(2026, 3, 7), []time.Time{d(2026, 3, 7), d(2026, 3, 9), d(2026, 3, 10)}},
		// Christmas 2026: Fri 25, Mon 28 substitute Boxing Day.
		{"EvryWorkgDay", d(2026, 12, 24), []time.Time{d(2026, 12, 24), d(2026, 12, 29)}},
		{"IntrvlDay:10", d(2026, 2, 25), []time.Time{d(2026, 2, 25), d(2026, 3, 7), d(2026, 3, 17)}},
		// 2026-03-11 is a Wednesday; every 2 weeks on Friday (05).
		{"IntrvlWkDay:02:05", d(2026, 3, 11), []time.Time{d(2026, 3, 11), d(2026, 3, 13), d(2026, 3, 27), d(2026, 4, 10)}},
		// First already on the weekday: no duplicate.
		{"IntrvlWkDay:01:03", d(2026, 3, 11), []time.Time{d(2026, 3, 11), d(2026, 3, 18), d(2026, 3, 25)}},
		// Sunday = 07.
		{"IntrvlWkDay:01:07", d(2026, 3, 11), []time.Time{d(2026, 3, 11), d(2026, 3, 15), d(2026, 3, 22)}},
		// First Monday of each month.
		{"WkInMnthDay:01:01", d(2026, 3, 10), []time.Time{d(2026, 3, 10), d(2026, 4, 6), d(2026, 5, 4), d(2026, 6, 1)}},
		// Second Tuesday, first is before it in the same month.
		{"WkInMnthDay:02:02", d(2026, 3, 1), []time.Time{d(2026, 3, 1), d(2026, 3, 10), d(2026, 4, 14)}},
		// Fifth Friday: Jan 2026 has one (30th); Feb 2026 has not → last Friday (27th); May 2026 has (29th).
		{"WkInMnthDay:05:05", d(2026, 1, 2), []time.Time{d(2026, 1, 2), d(2026, 1, 30), d(2026, 2, 27), d(2026, 3, 27), d(2026, 4, 24), d(2026, 5, 29)}},
		// 31st clamps: Jan 31, Feb 28, Mar 31, Apr 30.
		{"IntrvlMnthDay:01:31", d(2026, 1, 31), []time.Time{d(2026, 1, 31), d(2026, 2, 28), d(2026, 3, 31), d(2026, 4, 30)}},
		// Leap year February.
		{"IntrvlMnthDay:01:30", d(2028, 1, 30), []time.Time{d(2028, 1, 30), d(2028, 2, 29), d(2028, 3, 30)}},
		// -01 is the last day; first mid-month.
		{"IntrvlMnthDay:01:-01", d(2026, 1, 15), []time.Time{d(2026, 1, 15), d(2026, 1, 31), d(2026, 2, 28), d(2026, 3, 31)}},
		// -05: fifth-last day (Jan 27, Feb 24, Mar 27).
		{"IntrvlMnthDay:01:-05", d(2026, 1, 1), []time.Time{d(2026, 1, 1), d(2026, 1, 27), d(2026, 2, 24), d(2026, 3, 27)}},
		// Day already passed in the first month: next interval month.
		{"IntrvlMnthDay:03:15", d(2026, 1, 20), []time.Time{d(2026, 1, 20), d(2026, 4, 15), d(2026, 7, 15), d(2026, 10, 15), d(2027, 1, 15)}},
		{"IntrvlMnthDay:03:15", d(2026, 1, 10), []time.Time{d(2026, 1, 10), d(2026, 1, 15), d(2026, 4, 15)}},
		{"IntrvlMnthDay:24:29", d(2026, 2, 1), []time.Time{d(2026, 2, 1), d(2026, 2, 28), d(2028, 2, 29), d(2030, 2, 28)}},
		{"QtrDay:ENGLISH", d(2026, 3, 26), []time.Time{d(2026, 3, 26), d(2026, 6, 24), d(2026, 9, 29), d(2026, 12, 25), d(2027, 3, 25)}},
		{"QtrDay:SCOTTISH", d(2026, 1, 1), []time.Time{d(2026, 1, 1), d(2026, 2, 2), d(2026, 5, 15), d(2026, 8, 1), d(2026, 11, 11), d(2027, 2, 2)}},
		{"QtrDay:RECEIVED", d(2026, 12, 21), []time.Time{d(2026, 12, 21), d(2027, 3, 20), d(2027, 6, 19), d(2027, 9, 24), d(2027, 12, 20)}},
	}
	for _, c := range cases {
		t.Run(c.expr+"/"+c.first.Format("2006-01-02"), func(t *testing.T) {
			f, err := ParseFrequency(c.expr)
			if err != nil {
				t.Fatal(err)
			}
			got := f.Schedule(c.first, len(c.want))
			for i := range c.want {
				if !got[i].Equal(c.want[i]) {
					t.Fatalf("execution %d: got %s, want %s\nall: %v", i, got[i].Format("Mon 2006-01-02"), c.want[i].Format("Mon 2006-01-02"), got)
				}
			}
		})
	}
}

func TestNext(t *testing.T) {
	f, _ := ParseFrequency("IntrvlMnthDay:01:15")
	first := d(2026, 1, 15)
	cases := []struct {
		after, want time.Time
	}{
		{first.Add(-time.Hour), first},                                                   // before the first: the first
		{first, d(2026, 2, 15)},                                                          // strictly after
		{d(2026, 2, 15).Add(-time.Minute), d(2026, 2, 15)},                               // same day, earlier clock
		{d(2026, 2, 15).Add(time.Minute), d(2026, 3, 15)},                                // same day, later clock
		{d(2031, 7, 20), d(2031, 8, 15)},                                                 // far ahead
		{time.Date(2026, 5, 1, 0, 0, 0, 0, time.FixedZone("X", 5*3600)), d(2026, 5, 15)}, // other zone
	}
	for _, c := range cases {
		if got := f.Next(c.after, first); !got.Equal(c.want) {
			t.Errorf("Next(%s) = %s, want %s", c.after, got, c.want)
		}
	}
	// IntrvlDay far ahead jumps without iterating from the start.
	g, _ := ParseFrequency("IntrvlDay:07")
	if got, want := g.Next(d(2027, 1, 1), d(2026, 1, 1)), d(2027, 1, 7); !got.Equal(want) {
		t.Errorf("IntrvlDay:07 Next = %s, want %s", got, want)
	}
}

// Keeps the clock time across a DST change in the first payment's location.
func TestScheduleKeepsLocalTime(t *testing.T) {
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Skip("no tzdata")
	}
	f, _ := ParseFrequency("EvryDay")
	first := time.Date(2026, 3, 28, 8, 0, 0, 0, london) // DST starts 29 March
	for _, x := range f.Schedule(first, 3) {
		if x.Hour() != 8 {
			t.Errorf("%s: hour %d, want 8", x, x.Hour())
		}
	}
}

// TestHolidayTable cross-checks the England & Wales table against the
// rules (Easter, first/last Mondays, substitutes) so a typo cannot hide.
func TestHolidayTable(t *testing.T) {
	want := map[civil]bool{}
	add := func(t time.Time) { want[civil{t.Year(), t.Month(), t.Day()}] = true }
	utc := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	firstMonday := func(y int, m time.Month) time.Time {
		t := utc(y, m, 1)
		for t.Weekday() != time.Monday {
			t = t.AddDate(0, 0, 1)
		}
		return t
	}
	lastMonday := func(y int, m time.Month) time.Time {
		t := utc(y, m+1, 0)
		for t.Weekday() != time.Monday {
			t = t.AddDate(0, 0, -1)
		}
		return t
	}
	for y := 2025; y <= 2028; y++ {
		// Anonymous Gregorian computus.
		a, b, c := y%19, y/100, y%100
		dd, e := b/4, b%4
		f := (b + 8) / 25
		g := (b - f + 1) / 3
		h := (19*a + b - dd - g + 15) % 30
		i, k := c/4, c%4
		l := (32 + 2*e + 2*i - h - k) % 7
		m := (a + 11*h + 22*l) / 451
		easter := utc(y, time.Month((h+l-7*m+114)/31), (h+l-7*m+114)%31+1)
		add(easter.AddDate(0, 0, -2))
		add(easter.AddDate(0, 0, 1))
		add(firstMonday(y, time.May))
		add(lastMonday(y, time.May))
		add(lastMonday(y, time.August))
		nyd := utc(y, 1, 1)
		for nyd.Weekday() == time.Saturday || nyd.Weekday() == time.Sunday {
			nyd = nyd.AddDate(0, 0, 1)
		}
		add(nyd)
		xmas, boxing := utc(y, 12, 25), utc(y, 12, 26)
		switch xmas.Weekday() {
		case time.Friday:
			add(xmas)
			add(utc(y, 12, 28))
		case time.Saturday:
			add(utc(y, 12, 27))
			add(utc(y, 12, 28))
		case time.Sunday:
			add(boxing)
			add(utc(y, 12, 27))
		default:
			add(xmas)
			add(boxing)
		}
	}
	for c := range want {
		if !englandWalesHolidays[c] {
			t.Errorf("table misses %v", c)
		}
	}
	for c := range englandWalesHolidays {
		if !want[c] {
			t.Errorf("table has unexpected %v", c)
		}
	}
	if EnglandWales.IsWorkingDay(utc(2026, 4, 6)) || !EnglandWales.IsWorkingDay(utc(2026, 4, 7)) {
		t.Error("Easter Monday 2026")
	}
	if got := NextWorkingDay(EnglandWales, utc(2027, 12, 24)); !got.Equal(utc(2027, 12, 24)) {
		t.Errorf("NextWorkingDay(Fri 24 Dec 2027) = %s, want itself", got)
	}
	if got := NextWorkingDay(EnglandWales, utc(2027, 12, 25)); !got.Equal(utc(2027, 12, 29)) {
		t.Errorf("NextWorkingDay(Christmas 2027) = %s, want 29 Dec", got)
	}
}
