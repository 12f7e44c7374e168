package ob

import "testing"

func TestParseAmount(t *testing.T) {
	tests := []struct {
		in, cur string
		want    int64
		wantErr bool
	}{
		{"10", "GBP", 1000, false},
		{"10.5", "GBP", 1050, false},
		{"10.50", "GBP", 1050, false},
		{"10.50000", "GBP", 1050, false},
		{"0.01", "GBP", 1, false},
		{"1234567890123.12", "GBP", 123456789012312, false},
		{"10.001", "GBP", 0, true},
		{"1000", "JPY", 1000, false},
		{"1000.5", "JPY", 0, true},
		{"1.234", "KWD", 1234, false},
		{"-1", "GBP", 0, true},
		{"1e3", "GBP", 0, true},
		{"", "GBP", 0, true},
		{"10.", "GBP", 0, true},
		{"12345678901234", "GBP", 0, true},
		{"10", "gbp", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseAmount(tt.in, tt.cur)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseAmount(%q, %q) error = %v, wantErr %v", tt.in, tt.cur, err, tt.wantErr)
			continue
		}
		if err == nil && got.Minor != tt.want {
			t.Errorf("ParseAmount(%q, %q) = %d, want %d", tt.in, tt.cur, got.Minor, tt.want)
		}
	}
}

func TestAmountString(t *testing.T) {
	tests := []struct {
		m    Money
		want string
	}{
		{Money{0, "GBP"}, "0.00"},
		{Money{5, "GBP"}, "0.05"},
		{Money{-1050, "GBP"}, "10.50"},
		{Money{123456, "EUR"}, "1234.56"},
		{Money{1000, "JPY"}, "1000"},
		{Money{1, "KWD"}, "0.001"},
	}
	for _, tt := range tests {
		if got := tt.m.AmountString(); got != tt.want {
			t.Errorf("%+v.AmountString() = %q, want %q", tt.m, got, tt.want)
		}
	}
	if got := (Money{-1050, "GBP"}).String(); got != "-10.50 GBP" {
		t.Errorf("String() = %q", got)
	}
}
