package payments

import (
	"testing"
	"time"
)

func TestStandingOrderPlan(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2027, 3, d, 9, 0, 0, 0, time.UTC) }
	gbp := func(s string) *Amount { return &Amount{Amount: s, Currency: "GBP"} }
	type want struct {
		at     time.Time
		amount int64
		last   bool
	}
	tests := []struct {
		name string
		in   StandingOrderInitiation
		want []want // every payment, then the plan must end
		open bool   // open-ended: only the listed payments are checked
	}{
		{
			name: "three payments, first recurring final amounts",
			in: StandingOrderInitiation{Frequency: "EvryDay", NumberOfPayments: "3", FirstPaymentDateTime: day(1),
				FirstPaymentAmount: *gbp("1.00"), RecurringPaymentAmount: gbp("2.00"), FinalPaymentAmount: gbp("3.00")},
			want: []want{{day(1), 100, false}, {day(2), 200, false}, {day(3), 300, true}},
		},
		{
			name: "one payment is the first amount",
			in: StandingOrderInitiation{Frequency: "EvryDay", NumberOfPayments: "1", FirstPaymentDateTime: day(1),
				FirstPaymentAmount: *gbp("1.00"), FinalPaymentAmount: gbp("3.00")},
			want: []want{{day(1), 100, true}},
		},
		{
			name: "final date ends it, recurring date starts the cycle",
			in: StandingOrderInitiation{Frequency: "IntrvlDay:07", FirstPaymentDateTime: day(1),
				RecurringPaymentDateTime: day(3), FinalPaymentDateTime: day(17),
				FirstPaymentAmount: *gbp("5.00"), RecurringPaymentAmount: gbp("6.00")},
			want: []want{{day(1), 500, false}, {day(3), 600, false}, {day(10), 600, false}, {day(17), 600, true}},
		},
		{
			name: "open-ended without recurring amount repeats the first",
			in:   StandingOrderInitiation{Frequency: "EvryDay", FirstPaymentDateTime: day(1), FirstPaymentAmount: *gbp("4.00")},
			want: []want{{day(1), 400, false}, {day(2), 400, false}, {day(3), 400, false}},
			open: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for n, w := range tt.want {
				p, ok, err := tt.in.Plan(WeekendsOnly, n)
				if err != nil || !ok {
					t.Fatalf("Plan(%d) = %v, %v, %v", n, p, ok, err)
				}
				if !p.At.Equal(w.at) || p.Amount.Minor != w.amount || p.Last != w.last {
					t.Errorf("Plan(%d) = %v %d last=%v, want %v %d last=%v", n, p.At, p.Amount.Minor, p.Last, w.at, w.amount, w.last)
				}
			}
			if tt.open {
				return
			}
			if p, ok, err := tt.in.Plan(WeekendsOnly, len(tt.want)); ok || err != nil {
				t.Errorf("Plan(%d) = %v, %v, %v; want the end", len(tt.want), p, ok, err)
			}
		})
	}
}
