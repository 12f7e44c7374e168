package payments_test

import (
	"testing"
	"time"

	"github.com/obank/obank/payments"
)

func TestSettlementDue(t *testing.T) {
	st, err := payments.DefaultSettlement()
	if err != nil {
		t.Fatal(err)
	}
	london := st.Location
	at := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, london) }
	tests := []struct {
		name       string
		instrument string
		at         time.Time
		want       time.Time
		later      bool
	}{
		{"no instrument: Faster Payments, at once", "", at(2026, 11, 28, 3, 0), at(2026, 11, 28, 3, 0), false},
		{"FPS on a Sunday night", payments.InstrumentFPS, at(2026, 11, 29, 23, 59), at(2026, 11, 29, 23, 59), false},
		{"CHAPS within the day", payments.InstrumentCHAPS, at(2026, 11, 24, 9, 0), at(2026, 11, 24, 9, 0), false},
		{"CHAPS at the opening", payments.InstrumentCHAPS, at(2026, 11, 24, 6, 0), at(2026, 11, 24, 6, 0), false},
		{"CHAPS before the opening", payments.InstrumentCHAPS, at(2026, 11, 24, 5, 59), at(2026, 11, 24, 6, 0), true},
		{"CHAPS at the cut-off", payments.InstrumentCHAPS, at(2026, 11, 24, 16, 0), at(2026, 11, 25, 6, 0), true},
		{"CHAPS on Friday evening", payments.InstrumentCHAPS, at(2026, 11, 27, 18, 0), at(2026, 11, 30, 6, 0), true},
		{"CHAPS on Saturday morning", payments.InstrumentCHAPS, at(2026, 11, 28, 9, 0), at(2026, 11, 30, 6, 0), true},
		{"CHAPS on Christmas Eve evening skips two holidays", payments.InstrumentCHAPS, at(2026, 12, 24, 17, 0), at(2026, 12, 29, 6, 0), true},
		{"Bacs on Monday: Wednesday", payments.InstrumentBACS, at(2026, 11, 23, 10, 0), at(2026, 11, 25, 6, 0), true},
		{"Bacs after the cut-off: a day later", payments.InstrumentBACS, at(2026, 11, 23, 17, 0), at(2026, 11, 26, 6, 0), true},
		{"Bacs on Thursday: Monday", payments.InstrumentBACS, at(2026, 11, 26, 12, 0), at(2026, 11, 30, 6, 0), true},
		{"Bacs on Saturday: as Monday's", payments.InstrumentBACS, at(2026, 11, 28, 12, 0), at(2026, 12, 2, 6, 0), true},
		{"Bacs before Christmas", payments.InstrumentBACS, at(2026, 12, 23, 12, 0), at(2026, 12, 29, 6, 0), true},
		// The clocks go forward on 29 March 2026: 06:00 is still 06:00 on
		// the wall, 05:00 UTC.
		{"Bacs across the clock change", payments.InstrumentBACS, at(2026, 3, 26, 12, 0), time.Date(2026, 3, 30, 5, 0, 0, 0, time.UTC), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, later := st.Due(tt.instrument, tt.at.UTC())
			if !got.Equal(tt.want) || later != tt.later {
				t.Errorf("Due(%q, %s) = %s, %v; want %s, %v", tt.instrument, tt.at, got.In(london), later, tt.want.In(london), tt.later)
			}
		})
	}
}

func TestSettlementValidate(t *testing.T) {
	good, err := payments.DefaultSettlement()
	if err != nil {
		t.Fatal(err)
	}
	if err := good.Validate(); err != nil {
		t.Fatalf("default: %v", err)
	}
	for name, change := range map[string]func(*payments.Settlement){
		"no location":           func(s *payments.Settlement) { s.Location = nil },
		"CHAPS closes at open":  func(s *payments.Settlement) { s.CHAPSCutoff = s.CHAPSOpen },
		"CHAPS past midnight":   func(s *payments.Settlement) { s.CHAPSCutoff = 25 * time.Hour },
		"no Bacs cut-off":       func(s *payments.Settlement) { s.BACSCutoff = 0 },
		"Bacs opens past a day": func(s *payments.Settlement) { s.BACSOpen = 24 * time.Hour },
	} {
		s := good
		change(&s)
		if err := s.Validate(); err == nil {
			t.Errorf("%s: Validate passed", name)
		}
	}
}
